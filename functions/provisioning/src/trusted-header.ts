/**
 * Creating Open WebUI users the way a first visit through oauth2-proxy does: a trusted-header
 * sign-in, `POST <OPENWEBUI_URL>/api/v1/auths/signin` with `<TRUSTED_EMAIL_HEADER>: <email>` and
 * the body `{"email": <email>, "password": ""}`, sent straight to Open WebUI's port 8080. The path
 * of the oauth2-proxy mode, where SCIM-created users cannot sign in (below).
 *
 * Upstream behaviour this relies on, Open WebUI v0.10.2:
 *  - `routers/auths.py` `signin(form_data: SigninForm)`: `models/auths.py` `SigninForm(email: str,
 *    password: str)`, both required (FastAPI 422 otherwise), so the body carries both even though the
 *    trusted-header branch reads neither.
 *  - `ENABLE_PASSWORD_AUTH` false → **403** `ERROR_MESSAGES.ACTION_PROHIBITED` ("The requested
 *    action has been restricted as a security measure."), before any header is read.
 *  - With `WEBUI_AUTH_TRUSTED_EMAIL_HEADER` set: the header missing (another name) → **400**
 *    `INVALID_TRUSTED_HEADER` ("Your provider has not provided a trusted header. …"). The email is the
 *    header's value, lowercased; the name is `WEBUI_AUTH_TRUSTED_NAME_HEADER`'s value, URL-unquoted,
 *    else the email. An unknown email is created by `signup_handler` (a user row and an auth row,
 *    role `DEFAULT_USER_ROLE`; the first user ever becomes admin). Then
 *    `Auths.authenticate_user_by_email` JOINs `auth` ↔ `user`: a user without an active auth row —
 *    one created through SCIM (`Users.insert_new_user`, no auth row) — gets **400** `INVALID_CRED`
 *    ("The email or password provided is incorrect. …") on every sign-in, forever.
 *  - Without `WEBUI_AUTH_TRUSTED_EMAIL_HEADER` the same route checks the (empty) password: **400**
 *    `INVALID_CRED`, or **429** when rate-limited. With `WEBUI_AUTH=false` it signs in
 *    `admin@localhost`, so a 200 for another email is refused here.
 *  - Success: **200** `{token, token_type, expires_at, id, email, name, role, profile_image_url,
 *    permissions}` and a `token` cookie. The token (a session of that user) is not used, kept or
 *    logged.
 *
 * 200 means the user exists now and can sign in (created now, or already there: idempotent, and
 * indistinguishable, hence the outcome `ensured`). Nothing goes through the proxy: the proxy would
 * demand a Cognito session, and it strips client-sent copies of the header.
 */
import {
  commonFailure,
  describeNetworkError,
  detailOf,
  exchange,
  jsonOf,
  type CreateOutcome,
  type HttpResponse,
  type OpenWebUiUserClient,
  type UserInput,
} from "./http.js";

export const SIGNIN_PATH = "/api/v1/auths/signin";
/** `ERROR_MESSAGES.INVALID_TRUSTED_HEADER` (open_webui/constants.py). */
const INVALID_TRUSTED_HEADER = /trusted header/i;
/** `ERROR_MESSAGES.INVALID_CRED`: "The email or password provided is incorrect. …" */
const INVALID_CRED = /incorrect/i;

export interface TrustedHeaderClientOptions {
  /** Open WebUI's own base URL, e.g. http://openwebui.owui-sandbox.internal:8080 (port 8080, not the proxy's 4180). */
  readonly baseUrl: string;
  /** Open WebUI's `WEBUI_AUTH_TRUSTED_EMAIL_HEADER`, e.g. `X-Forwarded-Email`. */
  readonly emailHeader: string;
  /** Open WebUI's `WEBUI_AUTH_TRUSTED_NAME_HEADER`, when it differs from the email header. */
  readonly nameHeader?: string;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
}

const WHERE = "OPENWEBUI_URL";

export class TrustedHeaderClient implements OpenWebUiUserClient {
  readonly path = "trusted-header" as const;
  requests = 0;
  private readonly fetchFn: typeof fetch;
  private readonly url: string;
  private readonly nameHeader?: string;

  constructor(private readonly opts: TrustedHeaderClientOptions) {
    this.fetchFn = opts.fetch ?? fetch;
    this.url = `${opts.baseUrl.replace(/\/+$/, "")}${SIGNIN_PATH}`;
    // The same header for both (this platform): the email is all a first visit sends, so it is the name too.
    if (opts.nameHeader && opts.nameHeader.toLowerCase() !== opts.emailHeader.toLowerCase()) this.nameHeader = opts.nameHeader;
  }

  async create(user: UserInput): Promise<CreateOutcome> {
    const email = user.email.toLowerCase();
    // Header values are bytes; Open WebUI (Starlette) decodes them as latin-1, so only ASCII survives as sent.
    if (!/^[\x21-\x7e]+$/.test(email)) {
      return { kind: "rejected", status: 0, reason: "the email has characters an HTTP header cannot carry as-is, so a trusted-header sign-in cannot create it" };
    }
    let res: HttpResponse;
    try {
      this.requests += 1;
      res = await exchange(this.fetchFn, {
        method: "POST",
        url: this.url,
        headers: {
          [this.opts.emailHeader]: email,
          // Open WebUI URL-unquotes the name header; encoding keeps any name a valid header value.
          ...(this.nameHeader ? { [this.nameHeader]: encodeURIComponent(user.name) } : {}),
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify({ email, password: "" }),
        timeoutMs: this.opts.timeoutMs,
      });
    } catch (err) {
      return { kind: "unavailable", reason: describeNetworkError(err) };
    }
    const common = commonFailure(res, this.url, WHERE);
    if (common) return common;
    const detail = detailOf(res.body);
    const d = detail ? { detail } : {};
    const header = this.opts.emailHeader;
    if (res.status === 200) {
      const session = jsonOf(res.body) as { id?: unknown; email?: unknown } | null;
      const signedIn = typeof session?.email === "string" ? session.email.toLowerCase() : undefined;
      if (signedIn !== email) {
        return {
          kind: "rejected",
          status: 200,
          reason: `Open WebUI answered 200 but for ${signedIn === undefined ? "no email" : "another account"}, not ${email}: it does not take the email from ${header} (WEBUI_AUTH_TRUSTED_EMAIL_HEADER unset and WEBUI_AUTH=false?), or ${WHERE} is not Open WebUI's sign-in`,
        };
      }
      return { kind: "ensured", status: 200, ...(typeof session?.id === "string" && session.id ? { id: session.id } : {}) };
    }
    if (res.status === 400 && INVALID_TRUSTED_HEADER.test(detail ?? "")) {
      return {
        kind: "rejected",
        status: 400,
        reason: `Open WebUI found no trusted email header (400 INVALID_TRUSTED_HEADER): its WEBUI_AUTH_TRUSTED_EMAIL_HEADER is not "${header}"; set TRUSTED_EMAIL_HEADER to the same header name`,
        ...d,
      };
    }
    if (res.status === 400 && INVALID_CRED.test(detail ?? "")) {
      return {
        kind: "rejected",
        status: 400,
        reason: `Open WebUI refused the sign-in (400 "email or password incorrect"): either it does not trust ${header} (WEBUI_AUTH_TRUSTED_EMAIL_HEADER unset, so it checked the empty password), or ${email} is an Open WebUI user without a password record (created through SCIM, or deactivated), whom trusted-header sign-in never lets in: delete that user in Open WebUI and the next attempt recreates it`,
        ...d,
      };
    }
    if (res.status === 403) {
      return {
        kind: "forbidden",
        status: 403,
        reason: "password sign-in is off in Open WebUI (403): trusted-header sign-in goes through /api/v1/auths/signin, which needs ENABLE_PASSWORD_AUTH=true",
        ...d,
      };
    }
    if (res.status === 404 || res.status === 405) {
      return { kind: "rejected", status: res.status, reason: `no sign-in route at ${WHERE} (HTTP ${res.status}): not Open WebUI's API`, ...d };
    }
    return { kind: "rejected", status: res.status, reason: `Open WebUI rejected the sign-in (HTTP ${res.status})`, ...d };
  }
}
