// Kefu's embed snippet: put ONE tag on any page of your site
//   <script src="https://kefu.example.com/widget/embed.js" data-site-key="YOUR_SITE_KEY" async></script>
// and a chat button appears in the bottom right corner; it opens the widget in a frame served
// by Kefu itself (optional: data-lang="zh|en"). Plain JS, no dependencies, nothing global.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src).origin;
  var key = script.getAttribute("data-site-key") || "";
  var lang = script.getAttribute("data-lang") || "";
  var label = /^en/i.test(lang || navigator.language || "") ? "Chat with us" : "在线客服";

  var src = origin + "/?embed=1&site_key=" + encodeURIComponent(key) + (lang ? "&lang=" + encodeURIComponent(lang) : "");
  var frame = document.createElement("iframe");
  frame.src = src;
  frame.title = label;
  frame.setAttribute("data-kefu", "frame");
  frame.style.cssText = "position:fixed;z-index:2147483000;right:16px;bottom:88px;width:380px;height:600px;" +
    "max-width:calc(100vw - 32px);max-height:calc(100vh - 112px);border:0;border-radius:16px;" +
    "box-shadow:0 10px 30px rgba(15,23,42,.2);display:none;background:#fff";

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("data-kefu", "launcher");
  button.style.cssText = "position:fixed;z-index:2147483000;right:16px;bottom:16px;min-height:56px;padding:0 20px;" +
    "border:0;border-radius:28px;background:#0f766e;color:#fff;font:600 16px system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 6px 16px rgba(15,23,42,.25)";
  button.addEventListener("click", function () {
    var open = frame.style.display === "none";
    frame.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  function mount() {
    document.body.appendChild(frame);
    document.body.appendChild(button);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
}());
