import { buildApp } from "./app.js";

buildApp().synth();
