import { openwebuiFlag, openwebuiVar, type AuthRule } from "./view.js";

/** `WEBUI_AUTH=false` is Open WebUI's single-user mode; every mode here serves many users. */
export const webuiAuthOff: AuthRule = {
  id: "OWUI-AUTH-1",
  title: "WEBUI_AUTH=false (single-user mode) in a multi-user deployment",
  check: (view) =>
    openwebuiFlag(view, "WEBUI_AUTH", true)
      ? []
      : [
          {
            problem: `WEBUI_AUTH is "${view.openwebui.WEBUI_AUTH}", Open WebUI's single-user mode: every visitor becomes the one admin, and once other users exist sign-in fails with EXISTING_USERS (it also forces ENABLE_SIGNUP off)`,
            fix: "leave WEBUI_AUTH unset or \"true\"; users are authenticated by the configured identity provider",
            variables: [openwebuiVar("WEBUI_AUTH")],
          },
        ],
};
