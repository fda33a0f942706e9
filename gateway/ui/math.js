// Proof and analysis text with its math rendered by KaTeX (served by the gateway from Debian's
// libjs-katex): the text goes in as text, then KaTeX's auto-render replaces the delimited math
// ($…$, $$…$$, \(…\), \[…\]). Bad TeX shows as itself, in red, rather than failing the page.
import {h} from "./dom.js";

const DELIMITERS = [
  {left: "$$", right: "$$", display: true},
  {left: "\\[", right: "\\]", display: true},
  {left: "\\(", right: "\\)", display: false},
  {left: "$", right: "$", display: false},
];

export function mathText(text, cls = "proof") {
  const el = h("div", {class: cls}, text);
  if (typeof window.renderMathInElement === "function") {
    window.renderMathInElement(el, {
      delimiters: DELIMITERS,
      throwOnError: false,
      errorColor: "#b42318",
      trust: false,
      strict: "ignore"
    });
  }
  return el;
}
