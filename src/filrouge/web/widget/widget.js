// Filrouge live chat: one <script src="https://…/widget/{id}.js" async></script> on any page.
// Plain JS in a shadow DOM (the site's CSS cannot reach it); words from the server's catalogue.
(function (config) {
  "use strict";
  window.__filrougeChat = window.__filrougeChat || {};
  if (window.__filrougeChat[config.channel] || !window.WebSocket) { return; }
  window.__filrougeChat[config.channel] = true;

  var script = document.currentScript;
  var base = (script && script.src) ? script.src.replace(/\/widget\/\d+\.js.*$/, "") : config.base;
  var lang = (document.documentElement.lang || navigator.language || "fr").slice(0, 2).toLowerCase();
  var t = config.strings[lang] || config.strings.fr;
  var storeKey = "filrouge-chat-" + config.channel;
  var token = load();
  var ws = null, retries = 0, stopped = false, welcomed = false;
  var outbox = [], pending = {}, shown = {}, unread = 0, limits = { max_bytes: 0, max_mb: "" };
  var contact = { name: null, email: null }, availability = { online: true }, typingTimer = null;
  var lastTyping = 0;

  function fmt(text, params) {
    return text.replace(/\{(\w+)\}/g, function (all, key) { return key in params ? params[key] : all; });
  }
  function load() { try { return window.localStorage.getItem(storeKey); } catch (e) { return null; } }
  function save(value) {
    try {
      if (value) { window.localStorage.setItem(storeKey, value); } else { window.localStorage.removeItem(storeKey); }
    } catch (e) { /* private mode: the chat lasts as long as the page */ }
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }
  function newId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }

  // --- the widget ------------------------------------------------------------------------
  var host = el("div");
  host.setAttribute("data-filrouge-chat", String(config.channel));
  var root = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:15px}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483646;width:56px;height:56px;border-radius:50%;border:0;background:#b3261e;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#1b5e20;color:#fff;font-size:12px;line-height:22px}",
    ".panel{position:fixed;right:20px;bottom:88px;z-index:2147483647;width:min(370px,calc(100vw - 24px));height:min(560px,calc(100vh - 110px));display:flex;flex-direction:column;background:#fff;color:#222;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".panel[hidden],[hidden]{display:none!important}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;background:#b3261e;color:#fff}",
    "header button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}",
    ".status{margin:0;padding:8px 14px;background:#f6f1f0;font-size:13px}",
    ".log{flex:1;overflow-y:auto;margin:0;padding:10px 12px;list-style:none}",
    ".log li{margin:6px 0;max-width:85%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}",
    ".log li.visitor{margin-left:auto;background:#b3261e;color:#fff}",
    ".log li.agent{background:#eee}",
    ".log li.pending{opacity:.6}",
    ".rating{display:flex;gap:4px;margin-top:6px}",
    ".rating .star{min-width:32px;min-height:32px;border:1px solid #b3261e;border-radius:6px;background:#fff;color:#b3261e;cursor:pointer}",
    ".log .author{display:block;font-size:12px;opacity:.75}",
    ".log img,.log video{display:block;max-width:100%;max-height:220px;margin-top:4px;border-radius:6px}",
    ".typing{margin:0 14px 6px;font-size:13px;font-style:italic;color:#555}",
    ".alert{margin:0 14px 6px;font-size:13px;color:#b3261e}",
    "form{display:flex;gap:6px;padding:8px 10px;border-top:1px solid #eee;align-items:flex-end}",
    ".contact{flex-wrap:wrap}.contact input{flex:1 1 45%}",
    "input,textarea{border:1px solid #ccc;border-radius:6px;padding:7px;color:#222;background:#fff}",
    "textarea{flex:1;resize:none;height:40px}",
    "form button,.attach{border:0;border-radius:6px;padding:8px 10px;background:#b3261e;color:#fff;cursor:pointer}",
    ".attach{background:#555;position:relative;overflow:hidden}",
    ".attach input{position:absolute;inset:0;opacity:0;cursor:pointer}",
    ".progress{display:flex;gap:8px;align-items:center;margin:0 14px 6px;font-size:13px}",
    ".progress progress{flex:1}"
  ].join("\n");
  var launcher = el("button", "launcher", "💬");
  launcher.type = "button";
  launcher.setAttribute("aria-label", t.open);
  var badge = el("span", "badge");
  badge.hidden = true;
  launcher.appendChild(badge);

  var panel = el("section", "panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", t.title);
  var header = el("header");
  var close = el("button", "close", "×");
  close.type = "button";
  close.setAttribute("aria-label", t.close);
  header.appendChild(el("strong", "title", t.title));
  header.appendChild(close);
  var status = el("p", "status");
  status.setAttribute("role", "status");
  var log = el("ol", "log");
  log.setAttribute("aria-live", "polite");
  var typing = el("p", "typing");
  typing.hidden = true;
  var alertLine = el("p", "alert");
  alertLine.setAttribute("role", "alert");
  alertLine.hidden = true;
  var progress = el("div", "progress");
  progress.hidden = true;
  var bar = el("progress");
  bar.max = 100;
  var progressLabel = el("span", "", t.uploading);
  progress.appendChild(progressLabel);
  progress.appendChild(bar);

  var contactForm = el("form", "contact");
  contactForm.hidden = true;
  var nameInput = el("input");
  nameInput.name = "name";
  nameInput.autocomplete = "name";
  nameInput.placeholder = t.name;
  nameInput.setAttribute("aria-label", t.name);
  var emailInput = el("input");
  emailInput.name = "email";
  emailInput.type = "email";
  emailInput.autocomplete = "email";
  emailInput.placeholder = t.email;
  emailInput.setAttribute("aria-label", t.email);
  var saveButton = el("button", "", t.save);
  saveButton.type = "submit";
  contactForm.appendChild(nameInput);
  contactForm.appendChild(emailInput);
  contactForm.appendChild(saveButton);

  var composer = el("form", "composer");
  var text = el("textarea");
  text.placeholder = t.placeholder;
  text.setAttribute("aria-label", t.placeholder);
  var attach = el("label", "attach", "📷");
  attach.title = t.attach;
  var file = el("input");
  file.type = "file";
  file.accept = "image/*,video/*";
  file.setAttribute("capture", "");
  file.setAttribute("aria-label", t.attach);
  attach.appendChild(file);
  var send = el("button", "", t.send);
  send.type = "submit";
  composer.appendChild(text);
  composer.appendChild(attach);
  composer.appendChild(send);

  [header, status, log, typing, alertLine, progress, contactForm, composer].forEach(function (node) {
    panel.appendChild(node);
  });
  root.appendChild(style);
  root.appendChild(panel);
  root.appendChild(launcher);

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-label", open ? t.close : t.open);
    if (open) {
      unread = 0;
      showBadge();
      text.focus();
      log.scrollTop = log.scrollHeight;
    }
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  close.addEventListener("click", function () { setOpen(false); });

  function showBadge() {
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    badge.setAttribute("aria-label", fmt(t.unread, { count: unread }));
  }
  function say(message) {
    alertLine.textContent = message || "";
    alertLine.hidden = !message;
  }

  // --- messages ------------------------------------------------------------------------
  function attachmentUrl(id) {
    return base + "/hooks/chat/" + config.channel + "/attachments/" + id + "?token=" + encodeURIComponent(token || "");
  }
  function mediaNode(type, src, filename) {
    if (/^image\//.test(type)) {
      var image = el("img");
      image.src = src;
      image.alt = filename;
      return image;
    }
    if (/^video\//.test(type)) {
      var video = el("video");
      video.src = src;
      video.controls = true;
      video.preload = "metadata";
      return video;
    }
    var link = el("a", "", fmt(t.file, { filename: filename }));
    link.href = src;
    link.target = "_blank";
    link.rel = "noopener";
    return link;
  }
  function bubble(from, author) {
    var item = el("li", from);
    if (from === "agent") { item.appendChild(el("span", "author", author || t.agent)); }
    log.appendChild(item);
    return item;
  }
  function addMessage(message, fromHistory) {
    if (shown[message.id]) { return; }
    shown[message.id] = true;
    var mine = message.client_id && pending[message.client_id];
    if (mine) {
      mine.classList.remove("pending");
      delete pending[message.client_id];
      return;
    }
    var item = bubble(message.from, message.author);
    if (message.text) { item.appendChild(document.createTextNode(message.text)); }
    (message.attachments || []).forEach(function (a) {
      item.appendChild(mediaNode(a.content_type, attachmentUrl(a.id), a.filename));
    });
    if (message.survey) { item.appendChild(ratingNode(message.id, message.survey)); }
    if (message.from === "agent") {
      typing.hidden = true;
      if (!fromHistory && panel.hidden) { unread += 1; showBadge(); }
    }
    log.scrollTop = log.scrollHeight;
  }

  // A satisfaction request: five buttons, then the thanks (the server keeps one answer).
  var ratings = {};
  function ratingNode(messageId, survey) {
    var box = el("div", "rating");
    ratings[messageId] = box;
    if (survey.answered) { box.textContent = t.rated; return box; }
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", t.rate);
    for (var n = 1; n <= 5; n += 1) {
      (function (score) {
        var button = el("button", "star", String(score));
        button.type = "button";
        button.title = fmt(t.stars, { n: score });
        button.addEventListener("click", function () {
          transmit({ type: "rating", message_id: messageId, csat: score });
        });
        box.appendChild(button);
      })(n);
    }
    return box;
  }

  function showAvailability(value) {
    availability = value || availability;
    var message = t.online;
    if (!availability.online) {
      if (availability.reason === "closed" && availability.next) {
        var when = new Date(availability.next).toLocaleString(lang, {
          weekday: "long", hour: "2-digit", minute: "2-digit"
        });
        message = fmt(t.closed_until, { when: when });
      } else {
        message = availability.reason === "closed" ? t.closed : t.no_agent;
      }
    }
    status.textContent = message;
    var wantsEmail = !availability.online && !contact.email;
    emailInput.placeholder = wantsEmail ? t.email_offline : t.email;
    emailInput.setAttribute("aria-label", emailInput.placeholder);
    contactForm.hidden = !(wantsEmail || (!contact.name && !contact.email && !log.children.length));
  }

  // --- the socket ----------------------------------------------------------------------
  function socketUrl() {
    return base.replace(/^http/, "ws") + "/hooks/chat/" + config.channel + "/ws";
  }
  function connect() {
    welcomed = false;
    ws = new WebSocket(socketUrl());
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "hello", token: token || null, locale: lang }));
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      (handlers[frame.type] || function () {})(frame);
    };
    ws.onclose = function (event) {
      welcomed = false;
      if (event.code === 4401) { token = null; save(null); }
      if (event.code === 4403 || event.code === 4404) { stopped = true; host.remove(); return; }
      if (stopped) { return; }
      say(t.reconnecting);
      retries += 1;
      setTimeout(connect, Math.min(30000, 500 * Math.pow(2, Math.min(retries, 6))));
    };
  }
  var handlers = {
    welcome: function (frame) {
      token = frame.token;
      save(token);
      retries = 0;
      welcomed = true;
      say("");
      limits = frame.limits || limits;
      contact = frame.contact || contact;
      if (contact.name && !nameInput.value) { nameInput.value = contact.name; }
      if (contact.email && !emailInput.value) { emailInput.value = contact.email; }
      (frame.messages || []).forEach(function (m) { addMessage(m, true); });
      showAvailability(frame.availability);
      var waiting = outbox;
      outbox = [];
      waiting.forEach(transmit);
    },
    message: function (frame) { addMessage(frame.message, false); },
    rated: function (frame) {
      var box = ratings[frame.message_id];
      if (box) { box.textContent = t.rated; }
    },
    ack: function (frame) {
      var item = frame.client_id && pending[frame.client_id];
      if (item) { item.classList.remove("pending"); delete pending[frame.client_id]; }
      shown[frame.message_id] = true;
      showAvailability(frame.availability);
    },
    typing: function (frame) {
      typing.textContent = fmt(t.typing, { name: frame.name || t.agent });
      typing.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typing.hidden = true; }, 6000);
    },
    contact: function (frame) {
      contact = { name: frame.name, email: frame.email };
      contactForm.hidden = true;
      if (frame.email) { say(fmt(t.email_saved, { email: frame.email })); }
    },
    error: function (frame) { say(frame.message); }
  };
  function transmit(frame) {
    if (ws && welcomed && ws.readyState === 1) { ws.send(JSON.stringify(frame)); } else { outbox.push(frame); }
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = text.value;
    if (!value.trim()) { return; }
    var clientId = newId();
    var item = bubble("visitor");
    item.classList.add("pending");
    item.textContent = value;
    pending[clientId] = item;
    log.scrollTop = log.scrollHeight;
    text.value = "";
    lastTyping = 0;  // typing after this message is news again
    if (!contactForm.hidden && (nameInput.value || emailInput.value)) { sendContact(); }
    transmit({ type: "message", text: value, client_id: clientId });
  });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit"));
    }
  });
  text.addEventListener("input", function () {
    if (Date.now() - lastTyping > 2500 && ws && welcomed) {
      lastTyping = Date.now();
      ws.send(JSON.stringify({ type: "typing", state: true }));
    }
  });
  function sendContact() {
    transmit({ type: "contact", name: nameInput.value, email: emailInput.value });
  }
  contactForm.addEventListener("submit", function (event) {
    event.preventDefault();
    sendContact();
  });

  // --- photos and videos, straight from the phone's camera ----------------------------------
  file.addEventListener("change", function () {
    var chosen = file.files && file.files[0];
    file.value = "";
    if (!chosen) { return; }
    if (limits.max_bytes && chosen.size > limits.max_bytes) {
      say(fmt(t.too_large, { limit_mb: limits.max_mb }));
      return;
    }
    if (!token) { say(t.reconnecting); return; }
    upload(chosen);
  });
  function upload(chosen) {
    var clientId = newId();
    var item = bubble("visitor");
    item.classList.add("pending");
    item.appendChild(mediaNode(chosen.type, URL.createObjectURL(chosen), chosen.name));
    pending[clientId] = item;
    var form = new FormData();
    form.append("file", chosen, chosen.name);
    form.append("client_id", clientId);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", base + "/hooks/chat/" + config.channel + "/upload");
    xhr.setRequestHeader("X-Filrouge-Visitor", token);
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
    };
    xhr.onload = function () {
      progress.hidden = true;
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 200 || xhr.status === 201) {
        item.classList.remove("pending");
        delete pending[clientId];
        if (body) { shown[body.message_id] = true; }
        return;
      }
      item.remove();
      say(body && body.error ? body.error.message : t.upload_failed);
    };
    xhr.onerror = function () { progress.hidden = true; item.remove(); say(t.upload_failed); };
    bar.value = 0;
    progress.hidden = false;
    xhr.send(form);
  }

  function start() {
    (document.body || document.documentElement).appendChild(host);
    connect();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}(__FILROUGE_CONFIG__));
