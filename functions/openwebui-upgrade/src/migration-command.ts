/**
 * The command of Open WebUI's migration task: run the pinned version's own migrations, then prove
 * the database is at that version's Alembic head, and exit non-zero otherwise.
 *
 * Why not just `python3 -c "import open_webui.config"`: at import, config.py calls
 * `run_migrations()` (Alembic `upgrade head`) when `ENABLE_DB_MIGRATIONS` is true, but it catches
 * every exception and only logs it (`log.exception`), so the import, and the task, would succeed
 * with an unmigrated or half-migrated database. The check afterwards compares the revision stored
 * in `alembic_version` with the heads of the image's own migration scripts.
 *
 * The image (v0.10.2 Dockerfile) has no ENTRYPOINT, `WORKDIR /app/backend` (where the
 * `open_webui` package lives, so `python3 -c` imports it from the working directory) and
 * `ENV WEBUI_SECRET_KEY=""`. env.py refuses to import without a secret key when auth is on;
 * migrations never read it (no script under `migrations/` does), so when the task has none an
 * ephemeral random one is set for this process only, never stored.
 *
 * The older peewee migration layer (`open_webui/internal/migrations`, run by
 * `handle_peewee_migration` at `import open_webui.internal.db`) is gone in v0.10.2: internal/db.py
 * has no peewee code, and Alembic revision 461111b60977 repairs the tables peewee created. Versions
 * that still have it re-raise its failures, so the import fails and the task exits non-zero.
 *
 * Last line on stdout (the task's log): `{"migration": "ok"|"behind", "current": [...], "heads": [...]}`.
 */

/** Exit code when the migrations ran without raising but the database is not at the head. */
export const NOT_AT_HEAD_EXIT_CODE = 3;

/** The Python program (`python3 -c <this>`). */
export const MIGRATION_SCRIPT = [
  "import json, os, secrets, sys",
  "os.environ['ENABLE_DB_MIGRATIONS'] = 'true'",
  "if not os.environ.get('WEBUI_SECRET_KEY'): os.environ['WEBUI_SECRET_KEY'] = secrets.token_hex(32)",
  "import open_webui.config",
  "from alembic.config import Config",
  "from alembic.runtime.migration import MigrationContext",
  "from alembic.script import ScriptDirectory",
  "from open_webui.env import OPEN_WEBUI_DIR",
  "from open_webui.internal.db import engine",
  "cfg = Config(str(OPEN_WEBUI_DIR / 'alembic.ini'))",
  "cfg.set_main_option('script_location', str(OPEN_WEBUI_DIR / 'migrations'))",
  "heads = sorted(ScriptDirectory.from_config(cfg).get_heads())",
  "with engine.connect() as conn: current = sorted(MigrationContext.configure(conn).get_current_heads())",
  "ok = current == heads",
  "print(json.dumps({'migration': 'ok' if ok else 'behind', 'current': current, 'heads': heads}), flush=True)",
  `sys.exit(0 if ok else ${NOT_AT_HEAD_EXIT_CODE})`,
].join("\n");

/**
 * The migration container's argv: `entryPoint` and `command` both set, so it does not depend on the
 * image keeping an empty ENTRYPOINT (ECS appends `command` to an image ENTRYPOINT).
 */
export const MIGRATION_ENTRY_POINT: readonly string[] = ["python3", "-c"];
export const MIGRATION_COMMAND: readonly string[] = [MIGRATION_SCRIPT];
