import { openwebuiFlag, openwebuiVar, type AuthRule } from "./view.js";

/** Open WebUI v0.6.41 `POST /api/v1/auths/signin` answers 403 when `ENABLE_PASSWORD_AUTH` is false, before it reads the trusted header. */
export const passwordAuthOff: AuthRule = {
  id: "OWUI-AUTH-5",
  title: "ENABLE_PASSWORD_AUTH=false with trusted-header sign-in",
  check: (view) =>
    view.openwebui.WEBUI_AUTH_TRUSTED_EMAIL_HEADER && !openwebuiFlag(view, "ENABLE_PASSWORD_AUTH", true)
      ? [
          {
            problem: `ENABLE_PASSWORD_AUTH is "${view.openwebui.ENABLE_PASSWORD_AUTH}" while WEBUI_AUTH_TRUSTED_EMAIL_HEADER is set: Open WebUI's /api/v1/auths/signin then answers 403 before it reads the trusted header, so nobody can sign in`,
            fix: "leave ENABLE_PASSWORD_AUTH true in trusted-header mode (no password form is reachable: every request passes the proxy)",
            variables: [openwebuiVar("ENABLE_PASSWORD_AUTH"), openwebuiVar("WEBUI_AUTH_TRUSTED_EMAIL_HEADER")],
          },
        ]
      : [],
};
