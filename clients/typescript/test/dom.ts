// A DOM for React in Node (jsdom), set up before react-dom is loaded: import this module first.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { url: "http://127.0.0.1/" });
const globals = globalThis as Record<string, unknown>;
globals.window = dom.window;
globals.document = dom.window.document;
globals.HTMLElement = dom.window.HTMLElement;
if (!("navigator" in globalThis)) globals.navigator = dom.window.navigator;
globals.IS_REACT_ACT_ENVIRONMENT = true;
