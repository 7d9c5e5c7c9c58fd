// Customer chat widget of the Kefu service. Plain JS, no build step, no dependencies.
// Every piece of user or server text goes into the page through textContent only.
(function () {
  "use strict";

  var STRINGS = {
    zh: {
      title: "云栖优选 在线客服",
      pageTitle: "云栖优选 · 在线客服",
      welcome: "您好，我是云栖优选智能客服，请问有什么可以帮您？",
      inputLabel: "输入您的问题",
      placeholder: "输入您的问题，按 Enter 发送",
      send: "发送",
      toggle: "English",
      toggleLabel: "Switch to English",
      states: { bot: "机器人", queued: "排队中", agent: "人工客服", ticket: "已转工单", closed: "已结束" },
      position: "排队中 · 第 {n} 位",
      senders: { customer: "我：", bot: "机器人：", agent: "客服：", system: "系统消息：" },
      choices: "请选择",
      retrying: "网络不稳定，正在重新发送…",
      networkFailed: "网络连接失败，消息未发出，已保留在输入框中，请稍后重试。",
      serverFailed: "发送失败，消息已保留在输入框中，请稍后重试。",
      tooLong: "消息不能超过 2000 个字符。",
      expired: "之前的会话已失效，将为您开始新的会话。",
      human: "转人工",
      humanText: "人工客服",
      agentNamed: "人工客服 · {name}",
      agentTyping: "客服正在输入…",
      rateTitle: "请为本次服务打分",
      rateComment: "还有什么想告诉我们的吗？（选填）",
      rateSend: "提交评价",
      rateStars: "{n} 星",
      rateThanks: "感谢您的评价！",
      leaveTitle: "客服暂时不在线，请留言",
      leaveIntro: "留下您的问题和联系方式，我们上班后第一时间回复您。",
      leaveName: "称呼（选填）",
      leaveContact: "手机号或邮箱",
      leaveText: "留言内容",
      leaveSend: "提交留言",
      leaveCancel: "取消"
    },
    en: {
      title: "Yunqi Select Support",
      pageTitle: "Yunqi Select · Customer support",
      welcome: "Hi, I'm the Yunqi Select assistant. How can I help you?",
      inputLabel: "Type your question",
      placeholder: "Type your question and press Enter",
      send: "Send",
      toggle: "中文",
      toggleLabel: "切换到中文",
      states: { bot: "Bot", queued: "In queue", agent: "Human agent", ticket: "Ticket created", closed: "Closed" },
      position: "In queue · number {n}",
      senders: { customer: "You: ", bot: "Bot: ", agent: "Agent: ", system: "System: " },
      choices: "Choose one",
      retrying: "Connection is unstable, resending…",
      networkFailed: "Network error: your message was not sent and is still in the input box. Please try again.",
      serverFailed: "Sending failed: your message is still in the input box. Please try again.",
      tooLong: "Messages can be at most 2000 characters.",
      expired: "Your previous conversation has expired; a new one will start.",
      human: "Talk to a person",
      humanText: "I want to talk to a human",
      agentNamed: "Agent · {name}",
      agentTyping: "The agent is typing…",
      rateTitle: "How did we do?",
      rateComment: "Anything else you would like to tell us? (optional)",
      rateSend: "Send rating",
      rateStars: "{n} stars",
      rateThanks: "Thank you for your rating!",
      leaveTitle: "Nobody is online right now: leave us a message",
      leaveIntro: "Leave your question and how to reach you; we reply as soon as we open.",
      leaveName: "Your name (optional)",
      leaveContact: "Phone or e-mail",
      leaveText: "Your message",
      leaveSend: "Send message",
      leaveCancel: "Cancel"
    }
  };

  var API = "/api/web";
  // Embedded with web/widget/embed.js the page is opened as /?site_key=KEY: the key names the
  // site the conversation started on (its entry point).
  var SITE_KEY = (function () {
    var key = new URLSearchParams(window.location.search).get("site_key") || "";
    return /^[A-Za-z0-9_-]{1,64}$/.test(key) ? key : "";
  }());
  var KEYS = { visitor: "kefu.visitor_id", conversation: "kefu.conversation_id", lang: "kefu.lang",
    token: "kefu.visitor_token" };
  var ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
  var SENDERS = ["customer", "bot", "agent", "system"];
  var LIVE_STATES = ["queued", "agent"];
  var MAX_TEXT = 2000;
  var POLL_MS = 3000;
  var TYPING_SEND_MS = 3000;    // at most one "customer is typing" ping per this many ms
  var TYPING_SHOW_MS = 5000;    // how long the agent's typing dots stay without a new ping
  var CSAT_RE = /^\/csat [1-5]$/;
  var REQUEST_TIMEOUT_MS = 30000;
  var RETRY_DELAYS_MS = [1000, 2000, 4000, 8000];
  var WS_RETRY_DELAYS_MS = [1000, 3000, 10000, 30000];

  // ------------------------------------------------------------ small helpers
  function store(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (e) { /* storage disabled: the widget still works for this page view */ }
    return null;
  }

  function randomHex(bytes) {
    var buf = new Uint8Array(bytes);
    window.crypto.getRandomValues(buf);
    return Array.prototype.map.call(buf, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function visitorId() {
    var id = store(KEYS.visitor);
    if (!id || !ID_RE.test(id)) {
      id = "v" + randomHex(16);
      store(KEYS.visitor, id);
    }
    return id;
  }

  // The signed visitor token the service issued on the first message: sent with every request
  // (header) and socket (subprotocol), never in a URL. A refused token means a new visitor.
  var visitorToken = {
    get: function () { return store(KEYS.token); },
    keep: function (data) {
      if (data && typeof data.visitor_token === "string") store(KEYS.token, data.visitor_token);
    },
    forget: function () { store(KEYS.token, null); store(KEYS.visitor, null); store(KEYS.conversation, null); }
  };

  function initialLang() {
    var asked = new URLSearchParams(window.location.search).get("lang");
    if (asked === "zh" || asked === "en") return asked;
    var saved = store(KEYS.lang);
    if (saved === "zh" || saved === "en") return saved;
    var nav = (navigator.languages && navigator.languages[0]) || navigator.language || "zh";
    return /^zh/i.test(nav) ? "zh" : "en";
  }

  // An error the server explained, or a network failure worth retrying.
  function ApiError(status, code, message, retryable) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.retryable = retryable;
  }

  function request(method, url, body) {
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, REQUEST_TIMEOUT_MS);
    var init = { method: method, headers: { Accept: "application/json" }, signal: ctrl.signal, credentials: "same-origin" };
    var token = visitorToken.get();
    if (token) init.headers["X-Kefu-Visitor-Token"] = token;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (resp) {
      return resp.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        if (resp.ok && data) { visitorToken.keep(data); return data; }
        var err = (data && data.error) || {};
        if (err.code === "invalid_visitor_token") visitorToken.forget();
        throw new ApiError(resp.status, String(err.code || "http_" + resp.status),
          typeof err.message === "string" ? err.message : "",
          // busy: another replica holds the conversation (or died holding it, until its lock lapses)
          resp.status >= 500 || resp.status === 408 || err.code === "conversation_busy");
      });
    }, function () {
      throw new ApiError(0, "network", "", true);
    }).finally(function () { clearTimeout(timer); });
  }

  // ------------------------------------------------------------ the widget
  function Widget(root) {
    this.root = root;
    this.lang = initialLang();
    this.visitor = visitorId();
    this.conversation = null;
    this.state = "bot";
    this.lastId = 0;
    this.seen = new Set();
    this.pending = [];          // optimistic customer bubbles not yet confirmed by an id
    this.outbox = Promise.resolve();
    this.inFlight = 0;
    this.pollTimer = null;
    this.polling = false;
    this.ws = null;
    this.wsFailures = 0;
    this.wsTimer = null;

    this.list = root.querySelector("[data-testid=messages]");
    this.scroller = root.querySelector("[data-testid=scroll]");
    this.input = root.querySelector("[data-testid=input]");
    this.sendButton = root.querySelector("[data-testid=send]");
    this.badge = root.querySelector("[data-testid=state]");
    this.toggle = root.querySelector("[data-testid=lang-toggle]");
    this.notice = root.querySelector("[data-testid=error]");
    this.typing = root.querySelector("[data-testid=typing]");
    this.form = root.querySelector("[data-testid=composer]");
    this.humanButton = root.querySelector("[data-testid=talk-to-human]");
    this.agentName = "";
    this.typingUntil = 0;
    this.typingSentAt = 0;
    this.rated = false;
  }

  Widget.prototype.t = function (key) { return STRINGS[this.lang][key]; };

  Widget.prototype.start = function () {
    var self = this;
    this.form.addEventListener("submit", function (ev) { ev.preventDefault(); self.submitInput(); });
    this.input.addEventListener("keydown", function (ev) {
      // Enter sends, Shift+Enter breaks the line; never send while an IME is composing (拼音).
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        self.submitInput();
      }
    });
    this.input.addEventListener("input", function () { self.fitInput(); self.sendTyping(); });
    if (this.humanButton) this.humanButton.addEventListener("click", function () { self.askForHuman(); });
    this.toggle.addEventListener("click", function () { self.setLang(self.lang === "zh" ? "en" : "zh"); });
    this.applyLang();
    this.setState("bot");
    var saved = store(KEYS.conversation);
    if (saved && ID_RE.test(saved)) this.resume(saved);
  };

  // ------------------------------------------------------------ language
  Widget.prototype.setLang = function (lang) {
    this.lang = lang;
    store(KEYS.lang, lang);
    this.applyLang();
  };

  Widget.prototype.applyLang = function () {
    var self = this;
    document.documentElement.lang = this.lang === "zh" ? "zh-CN" : "en";
    document.title = this.t("pageTitle");
    this.root.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = self.t(node.getAttribute("data-i18n"));
    });
    this.input.placeholder = this.t("placeholder");
    this.toggle.textContent = this.t("toggle");
    this.toggle.lang = this.lang === "zh" ? "en" : "zh-CN";
    this.toggle.setAttribute("aria-label", this.t("toggleLabel"));
    this.list.querySelectorAll(".kf-sr[data-sender]").forEach(function (node) {
      node.textContent = self.t("senders")[node.getAttribute("data-sender")];
    });
    this.list.querySelectorAll(".kf-choices").forEach(function (node) {
      node.setAttribute("aria-label", self.t("choices"));
    });
    this.setState(this.state);
  };

  // ------------------------------------------------------------ state badge, notices
  Widget.prototype.setState = function (state, position) {
    var labels = this.t("states");
    var known = Object.prototype.hasOwnProperty.call(labels, state);
    this.state = known ? state : this.state;
    if (this.state !== "queued") this.position = null;
    else if (typeof position === "number" && position > 0) this.position = position;
    if (this.state !== "agent") this.agentName = "";
    // A queue position is shown only while queued: never once an agent has the conversation.
    if (this.state === "queued" && this.position) {
      this.badge.textContent = this.t("position").replace("{n}", String(this.position));
    } else if (this.state === "agent" && this.agentName) {
      this.badge.textContent = this.t("agentNamed").replace("{name}", this.agentName);
    } else {
      this.badge.textContent = labels[this.state];
    }
    if (this.humanButton) this.humanButton.hidden = this.state === "queued" || this.state === "agent";
    this.badge.setAttribute("data-state", this.state);
    this.updatePolling();
  };

  Widget.prototype.showError = function (text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  };

  Widget.prototype.setBusy = function (delta) {
    this.inFlight += delta;
    this.showTyping();
  };

  // The dots show while the bot works on an answer or while the agent is typing.
  Widget.prototype.showTyping = function () {
    var agentTyping = this.typingUntil > Date.now();
    this.typing.hidden = this.inFlight <= 0 && !agentTyping;
    this.typing.setAttribute("aria-label", agentTyping ? this.t("agentTyping") : "");
    if (!this.typing.hidden) this.scrollDown();
  };

  Widget.prototype.agentIsTyping = function () {
    var self = this;
    this.typingUntil = Date.now() + TYPING_SHOW_MS;
    this.showTyping();
    setTimeout(function () { self.showTyping(); }, TYPING_SHOW_MS + 50);
  };

  // Tell the agent the customer is typing (only while an agent has the conversation).
  Widget.prototype.sendTyping = function () {
    var now = Date.now();
    if (this.state !== "agent" || !this.conversation || now - this.typingSentAt < TYPING_SEND_MS) return;
    this.typingSentAt = now;
    request("POST", API + "/conversations/" + encodeURIComponent(this.conversation) + "/typing",
      { visitor_id: this.visitor }).catch(function () { /* only a hint */ });
  };

  // ------------------------------------------------------------ rendering
  Widget.prototype.scrollDown = function () {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  };

  Widget.prototype.fitInput = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight, 160) + "px";
  };

  Widget.prototype.buildRow = function (sender, text) {
    var row = el("li", "kf-row kf-row--" + sender);
    var label = el("span", "kf-sr", this.t("senders")[sender]);
    label.setAttribute("data-sender", sender);
    var msg = el("div", "kf-msg kf-msg--" + sender);
    msg.setAttribute("data-testid", "msg-" + sender);
    msg.appendChild(el("p", "kf-text", text));
    row.appendChild(label);
    row.appendChild(msg);
    return row;
  };

  Widget.prototype.addChoices = function (row, buttons) {
    var self = this;
    var group = el("div", "kf-choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", this.t("choices"));
    buttons.forEach(function (b) {
      if (!b || (typeof b.title !== "string" && typeof b.payload !== "string")) return;
      var title = typeof b.title === "string" && b.title ? b.title : b.payload;
      var payload = typeof b.payload === "string" && b.payload ? b.payload : title;
      var btn = el("button", "kf-choice", title);
      btn.type = "button";
      btn.setAttribute("data-testid", "choice");
      btn.addEventListener("click", function () {
        group.querySelectorAll("button").forEach(function (other) { other.disabled = true; });
        btn.classList.add("kf-choice--picked");
        self.send(payload, title, function () {
          group.querySelectorAll("button").forEach(function (other) { other.disabled = false; });
          btn.classList.remove("kf-choice--picked");
        });
      });
      group.appendChild(btn);
    });
    if (group.childNodes.length) row.querySelector(".kf-msg").appendChild(group);
  };

  // Once the customer has said something else, older reply buttons are stale.
  Widget.prototype.retireChoices = function () {
    this.list.querySelectorAll(".kf-choice").forEach(function (b) { b.disabled = true; });
  };

  Widget.prototype.markSeen = function (id) {
    var n = Number(id);
    if (!Number.isFinite(n)) return;
    this.seen.add(n);
    if (n > this.lastId) this.lastId = n;
  };

  // A message from the server (POST replies, poll, WebSocket); each id is shown once.
  Widget.prototype.addServerMessage = function (m) {
    if (!m || typeof m.text !== "string") return;
    var id = Number(m.id);
    if (Number.isFinite(id) && this.seen.has(id)) return;
    var sender = SENDERS.indexOf(m.sender) >= 0 ? m.sender : (m.sender === undefined ? "bot" : null);
    if (!sender) return;
    if (sender === "customer") {
      if (this.adoptPending(m.text, id)) return;
      this.retireChoices();
    }
    if (Number.isFinite(id)) this.markSeen(id);
    var row = this.buildRow(sender, m.text);
    if (Number.isFinite(id)) row.setAttribute("data-id", String(id));
    if (m.created_at) row.title = new Date(m.created_at).toLocaleString(this.lang === "zh" ? "zh-CN" : "en");
    if (sender === "agent" && this.agentName) row.querySelector(".kf-msg").setAttribute("data-agent", this.agentName);
    if (isCsatRequest(m)) this.addRating(row);
    else if (Array.isArray(m.buttons) && m.buttons.length) this.addChoices(row, m.buttons);
    if (sender === "agent") { this.typingUntil = 0; this.showTyping(); }
    if (m.rateable === true && sender === "bot" && Number.isFinite(id)) this.addFeedback(row, id);
    this.list.appendChild(row);
    this.scrollDown();
  };

  // "Was this helpful?" under a bot answer from the FAQ; the rating goes to the knowledge editors.
  var FEEDBACK = {
    zh: { ask: "这个回答有帮助吗？", yes: "有帮助", no: "没帮助", thanks: "谢谢您的反馈！" },
    en: { ask: "Was this helpful?", yes: "Helpful", no: "Not helpful", thanks: "Thanks for your feedback!" }
  };
  Widget.prototype.addFeedback = function (row, messageId) {
    var self = this;
    var words = FEEDBACK[this.lang] || FEEDBACK.zh;
    var box = el("div", "kf-feedback");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", words.ask);
    box.setAttribute("data-testid", "feedback");
    [[true, words.yes], [false, words.no]].forEach(function (pair) {
      var btn = el("button", "kf-feedback-btn", pair[1]);
      btn.type = "button";
      btn.setAttribute("data-testid", pair[0] ? "feedback-yes" : "feedback-no");
      btn.addEventListener("click", function () {
        var conversation = self.conversation;
        if (!conversation) return;
        box.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        var url = API + "/conversations/" + encodeURIComponent(conversation) + "/messages/" +
          encodeURIComponent(String(messageId)) + "/feedback";
        request("POST", url, { visitor_id: self.visitor, helpful: pair[0] }).then(function () {
          box.textContent = words.thanks;
        }, function () {
          box.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        });
      });
      box.appendChild(btn);
    });
    row.appendChild(box);
  };

  // The server echoed a customer message we already show optimistically: give it the id.
  Widget.prototype.adoptPending = function (text, id) {
    for (var i = 0; i < this.pending.length; i++) {
      var p = this.pending[i];
      if (p.sent === text || p.shown === text) {
        this.confirm(p, id);
        return true;
      }
    }
    return false;
  };

  Widget.prototype.confirm = function (item, id) {
    var at = this.pending.indexOf(item);
    if (at >= 0) this.pending.splice(at, 1);
    item.row.classList.remove("kf-row--sending", "kf-row--failed");
    if (Number.isFinite(id)) {
      item.row.setAttribute("data-id", String(id));
      this.markSeen(id);
    }
  };

  // ------------------------------------------------------------ CSAT: stars and a comment
  function isCsatRequest(m) {
    return Array.isArray(m.buttons) && m.buttons.length === 5 &&
      m.buttons.every(function (b) { return b && CSAT_RE.test(String(b.payload)); });
  }

  Widget.prototype.addRating = function (row) {
    var self = this;
    var form = el("form", "kf-rating");
    form.setAttribute("data-testid", "csat");
    var title = el("p", "kf-rating-title", this.t("rateTitle"));
    var stars = el("div", "kf-stars");
    stars.setAttribute("role", "radiogroup");
    stars.setAttribute("aria-label", this.t("rateTitle"));
    var chosen = 0;
    var buttons = [];
    [1, 2, 3, 4, 5].forEach(function (n) {
      var star = el("button", "kf-star", "★");
      star.type = "button";
      star.setAttribute("role", "radio");
      star.setAttribute("aria-checked", "false");
      star.setAttribute("aria-label", self.t("rateStars").replace("{n}", String(n)));
      star.setAttribute("data-testid", "star-" + n);
      star.addEventListener("click", function () {
        chosen = n;
        buttons.forEach(function (b, i) {
          b.classList.toggle("kf-star--on", i < n);
          b.setAttribute("aria-checked", i === n - 1 ? "true" : "false");
        });
        send.disabled = false;
      });
      buttons.push(star);
      stars.appendChild(star);
    });
    var label = el("label", "kf-rating-label", this.t("rateComment"));
    var comment = el("textarea", "kf-rating-comment");
    comment.id = "kf-csat-" + randomHex(4);
    comment.maxLength = 1000;
    comment.rows = 2;
    comment.setAttribute("data-testid", "csat-comment");
    label.htmlFor = comment.id;
    var send = el("button", "kf-send kf-rating-send", this.t("rateSend"));
    send.type = "submit";
    send.disabled = true;
    send.setAttribute("data-testid", "csat-send");
    form.appendChild(title);
    form.appendChild(stars);
    form.appendChild(label);
    form.appendChild(comment);
    form.appendChild(send);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!chosen) return;
      send.disabled = true;
      self.rate(chosen, comment.value.trim()).then(function () {
        form.textContent = "";
        form.appendChild(el("p", "kf-rating-title", self.t("rateThanks")));
        form.setAttribute("data-rated", String(chosen));
      }, function (err) {
        send.disabled = false;
        self.showError(err && err.message ? err.message : self.t("serverFailed"));
      });
    });
    row.querySelector(".kf-msg").appendChild(form);
  };

  Widget.prototype.rate = function (rating, comment) {
    var url = API + "/conversations/" + encodeURIComponent(this.conversation) + "/csat";
    return request("POST", url, { visitor_id: this.visitor, rating: rating, comment: comment });
  };

  // ------------------------------------------------------------ a person, or a message left
  Widget.prototype.askForHuman = function () {
    var self = this;
    request("GET", API + "/availability").then(function (data) {
      if (data && data.open === false) self.showLeaveForm();
      else self.send(self.t("humanText"), self.t("humanText"));
    }, function () {
      self.send(self.t("humanText"), self.t("humanText"));
    });
  };

  Widget.prototype.showLeaveForm = function () {
    var self = this;
    if (this.root.querySelector("[data-testid=leave-form]")) return;
    var form = el("form", "kf-leave");
    form.setAttribute("data-testid", "leave-form");
    form.appendChild(el("p", "kf-rating-title", this.t("leaveTitle")));
    form.appendChild(el("p", "kf-leave-intro", this.t("leaveIntro")));
    var fields = {};
    [["name", "leaveName", "input", false], ["contact", "leaveContact", "input", true],
      ["text", "leaveText", "textarea", true]].forEach(function (f) {
      var id = "kf-leave-" + f[0];
      var label = el("label", "kf-leave-label", self.t(f[1]));
      label.htmlFor = id;
      var input = el(f[2], "kf-leave-input");
      input.id = id;
      input.required = f[3];
      input.maxLength = f[0] === "text" ? MAX_TEXT : 128;
      input.setAttribute("data-testid", "leave-" + f[0]);
      fields[f[0]] = input;
      form.appendChild(label);
      form.appendChild(input);
    });
    var row = el("div", "kf-leave-actions");
    var cancel = el("button", "kf-lang kf-leave-cancel", this.t("leaveCancel"));
    cancel.type = "button";
    cancel.addEventListener("click", function () { form.remove(); });
    var send = el("button", "kf-send", this.t("leaveSend"));
    send.type = "submit";
    send.setAttribute("data-testid", "leave-send");
    row.appendChild(cancel);
    row.appendChild(send);
    form.appendChild(row);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      send.disabled = true;
      request("POST", API + "/leave-message", {
        visitor_id: self.visitor, lang: self.lang, name: fields.name.value.trim(),
        contact: fields.contact.value.trim(), text: fields.text.value.trim()
      }).then(function (data) {
        form.remove();
        if (typeof data.conversation_id === "string" && ID_RE.test(data.conversation_id)) {
          self.useConversation(data.conversation_id);
        }
        self.fetchMessages().catch(function () { /* shown on the next poll */ });
      }, function (err) {
        send.disabled = false;
        self.showError(err && err.message ? err.message : self.t("serverFailed"));
      });
    });
    this.scroller.appendChild(form);
    fields.contact.focus();
    this.scrollDown();
  };

  // ------------------------------------------------------------ sending
  Widget.prototype.submitInput = function () {
    var text = this.input.value.trim();
    if (!text) return;
    if (text.length > MAX_TEXT) { this.showError(this.t("tooLong")); return; }
    this.input.value = "";
    this.fitInput();
    this.send(text, text);
    this.input.focus();
  };

  // `sent` goes to the server; `shown` is what the bubble says (a button's title for its payload).
  Widget.prototype.send = function (sent, shown, onFail) {
    var self = this;
    this.retireChoices();
    var row = this.buildRow("customer", shown);
    row.classList.add("kf-row--sending");
    this.list.appendChild(row);
    this.scrollDown();
    var item = { sent: sent, shown: shown, row: row, clientId: "c" + randomHex(12), onFail: onFail };
    this.pending.push(item);
    this.showError("");
    this.outbox = this.outbox.then(function () { return self.deliver(item); });
  };

  Widget.prototype.deliver = function (item) {
    var self = this;
    this.visitor = visitorId();   // a new one if the service refused the old one's token
    var body = { visitor_id: this.visitor, text: item.sent, lang: this.lang, client_message_id: item.clientId };
    if (SITE_KEY) body.page = "site:" + SITE_KEY;
    this.setBusy(1);
    return this.postWithRetry(body, 0).then(function (data) {
      self.showError("");
      self.accept(item, data);
    }, function (err) {
      self.fail(item, err);
    }).finally(function () { self.setBusy(-1); });
  };

  Widget.prototype.postWithRetry = function (body, attempt) {
    var self = this;
    return request("POST", API + "/messages", body).catch(function (err) {
      if (!(err instanceof ApiError) || !err.retryable || attempt >= RETRY_DELAYS_MS.length) throw err;
      self.showError(self.t("retrying"));
      return sleep(RETRY_DELAYS_MS[attempt]).then(function () { return self.postWithRetry(body, attempt + 1); });
    });
  };

  Widget.prototype.accept = function (item, data) {
    var self = this;
    this.confirm(item, Number(data.message_id));
    if (typeof data.conversation_id === "string" && ID_RE.test(data.conversation_id)) {
      this.useConversation(data.conversation_id);
    }
    (Array.isArray(data.replies) ? data.replies : []).forEach(function (r) { self.addServerMessage(r); });
    if (typeof data.state === "string") this.setState(data.state);
  };

  // Nothing typed is lost: the text goes back into the input box with the server's explanation.
  Widget.prototype.fail = function (item, err) {
    var at = this.pending.indexOf(item);
    if (at >= 0) this.pending.splice(at, 1);
    if (item.row.parentNode) item.row.parentNode.removeChild(item.row);
    if (item.onFail) {
      item.onFail();   // a reply button: make it clickable again
    } else {
      var current = this.input.value.trim();
      this.input.value = current ? item.sent + "\n" + current : item.sent;
      this.fitInput();
    }
    var explained = err instanceof ApiError && err.message && err.status >= 400;
    this.showError(explained ? err.message
      : (err instanceof ApiError && err.status === 0 ? this.t("networkFailed") : this.t("serverFailed")));
  };

  // ------------------------------------------------------------ conversation, polling, socket
  Widget.prototype.useConversation = function (id) {
    if (id !== this.conversation) {
      this.conversation = id;
      store(KEYS.conversation, id);
      this.wsFailures = 0;
      this.connect();
    } else if (!this.ws && !this.wsTimer) {
      this.connect();
    }
  };

  Widget.prototype.resume = function (id) {
    var self = this;
    this.conversation = id;
    var reconnect = function () { if (self.conversation === id) self.connect(); };
    this.fetchMessages().then(reconnect, reconnect);   // a refused conversation was forgotten already
  };

  Widget.prototype.fetchMessages = function () {
    var self = this;
    var id = this.conversation;
    if (!id) return Promise.resolve();
    var url = API + "/conversations/" + encodeURIComponent(id) + "/messages?after=" +
      encodeURIComponent(String(this.lastId));
    return request("GET", url).then(function (data) {
      if (id !== self.conversation) return;
      (Array.isArray(data.messages) ? data.messages : []).forEach(function (m) { self.addServerMessage(m); });
      if (typeof data.agent_name === "string") self.agentName = data.agent_name;
      if (typeof data.state === "string") self.setState(data.state, data.queue_position);
    }, function (err) {
      if (id === self.conversation && err instanceof ApiError && err.status >= 400 && err.status < 500) {
        self.forgetConversation();   // not ours any more, or gone: the next message starts afresh
      }
      throw err;
    });
  };

  Widget.prototype.forgetConversation = function () {
    this.conversation = null;
    store(KEYS.conversation, null);
    this.disconnect();
    this.setState("bot");
  };

  Widget.prototype.updatePolling = function () {
    var live = this.conversation && LIVE_STATES.indexOf(this.state) >= 0;
    if (live && !this.pollTimer) this.schedulePoll(POLL_MS);
    if (!live && this.pollTimer) { clearTimeout(this.pollTimer); this.pollTimer = null; }
  };

  Widget.prototype.schedulePoll = function (ms) {
    var self = this;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(function () { self.poll(); }, ms);
  };

  Widget.prototype.poll = function () {
    var self = this;
    this.pollTimer = null;
    if (this.polling) { this.schedulePoll(POLL_MS); return; }
    this.polling = true;
    this.fetchMessages().catch(function () { /* try again on the next tick */ }).finally(function () {
      self.polling = false;
      self.updatePolling();
    });
  };

  Widget.prototype.connect = function () {
    var self = this;
    this.disconnect();
    if (!this.conversation || !("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var url = scheme + "//" + location.host + API + "/ws?conversation_id=" + encodeURIComponent(this.conversation);
    var token = visitorToken.get();
    if (!token) return;   // polling only until the first answer brings a token
    var ws;
    try { ws = new WebSocket(url, ["kefu.visitor", token]); } catch (e) { return; }
    var conversation = this.conversation;
    this.ws = ws;
    var reconnected = this.wsFailures > 0;
    ws.onopen = function () {
      self.wsFailures = 0;
      // Whatever was pushed while the socket was down is read once over HTTP (kept by id).
      if (reconnected) self.fetchMessages().catch(function () { /* the poll tries again */ });
    };
    ws.onmessage = function (ev) {
      var data = null;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (!data || conversation !== self.conversation) return;
      if (data.type === "typing" && data.sender === "agent") { self.agentIsTyping(); return; }
      if (data.type !== "message") return;
      self.addServerMessage(data.message);
      // An agent or system message usually means the state changed (joined, closed): refresh it.
      if (data.message && data.message.sender !== "customer") self.schedulePoll(0);
    };
    ws.onclose = function () {
      if (self.ws !== ws) return;
      self.ws = null;
      // Polling carries on meanwhile; the socket comes back with growing pauses.
      var delay = WS_RETRY_DELAYS_MS[Math.min(self.wsFailures, WS_RETRY_DELAYS_MS.length - 1)];
      self.wsFailures += 1;
      self.wsTimer = setTimeout(function () { self.wsTimer = null; self.connect(); }, delay);
    };
  };

  Widget.prototype.disconnect = function () {
    if (this.wsTimer) { clearTimeout(this.wsTimer); this.wsTimer = null; }
    if (this.ws) {
      var ws = this.ws;
      this.ws = null;
      try { ws.close(); } catch (e) { /* already closed */ }
    }
  };

  function boot() {
    var root = document.getElementById("kefu");
    if (!root || !window.crypto || !window.crypto.getRandomValues) return;
    var widget = new Widget(root);
    widget.start();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
}());
