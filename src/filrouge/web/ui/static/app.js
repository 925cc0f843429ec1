// Filrouge workspace: keyboard shortcuts, clickable rows, the public-reply warning.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.row[data-href]"));
  var selected = -1;

  function select(index) {
    if (!rows.length) { return; }
    selected = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("selected", i === selected); });
    rows[selected].scrollIntoView({ block: "nearest" });
  }

  rows.forEach(function (row, i) {
    row.addEventListener("click", function (event) {
      if (event.target.closest("a")) { return; }
      window.location.href = row.dataset.href;
    });
  });

  function typing(target) {
    return /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable;
  }

  function submit(id) {
    var form = document.getElementById(id);
    if (form) { form.submit(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (key === "j") { select(selected + 1); }
    else if (key === "k") { select(selected - 1); }
    else if (key === "Enter" && selected >= 0) { window.location.href = rows[selected].dataset.href; }
    else if (key === "r") {
      var text = document.getElementById("reply-text");
      if (text) { event.preventDefault(); text.focus(); }
    }
    else if (key === "c") {
      var canned = document.getElementById("canned");
      if (canned) { event.preventDefault(); canned.focus(); }
    }
    else if (key === "e") { submit("resolve"); }
    else if (key === "a") { submit("assign-me"); }
    else if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (help && help.showModal) { help.showModal(); }
    }
  });

  var helpButton = document.querySelector("[data-shortcuts]");
  if (helpButton) {
    helpButton.addEventListener("click", function () {
      document.getElementById("shortcuts").showModal();
    });
  }

  // A public reply that carries personal data should move to a private channel.
  var personal = /[\w.+-]+@[\w-]+\.[\w.]+|(?:\+|00)?\d[\d .-]{7,}\d|\b[A-Z]{2,4}-\d{4}-\d{4,}\b/;
  var text = document.getElementById("reply-text");
  var channel = document.getElementById("reply-channel");
  var warning = document.getElementById("public-warning");
  function check() {
    if (!text || !channel || !warning) { return; }
    var option = channel.options[channel.selectedIndex];
    var isPublic = option && option.dataset.public === "yes";
    warning.hidden = !(isPublic && personal.test(text.value));
  }
  if (text) { text.addEventListener("input", check); }
  if (channel) { channel.addEventListener("change", check); }
  check();
}());

// Realtime: the server says which conversation changed; the page fetches its own fresh view.
(function () {
  "use strict";
  if (!window.EventSource || !document.querySelector('meta[name="csrf-token"]')) { return; }
  var thread = document.querySelector("[data-conversation]");
  var rows = document.getElementById("rows");
  var bell = document.getElementById("bell");
  if (!thread && !rows && !bell) { return; }
  var pending = null;

  function refresh(selectors) {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        selectors.forEach(function (selector) {
          var now = document.querySelector(selector);
          var next = fresh.querySelector(selector);
          if (now && next) { now.replaceWith(next); }
        });
        document.dispatchEvent(new CustomEvent("filrouge:refreshed"));
      });
  }

  var source = new EventSource("/events");
  source.onopen = function () {  // also after a reconnection: say so to who listens
    document.dispatchEvent(new CustomEvent("filrouge:connected"));
  };
  source.onmessage = function (event) {
    var data = JSON.parse(event.data);
    if (data.type === "presence") {
      document.dispatchEvent(new CustomEvent("filrouge:presence", { detail: data }));
      return;
    }
    if (data.type === "notification.created" || data.type === "notification.read") {
      if (bell && String(data.user_id) === bell.dataset.user) { refresh(["#bell"]); }
      return;
    }
    var wanted = rows ? ["#rows tbody"] : null;
    if (thread && (data.type === "resync" || String(data.conversation_id) === thread.dataset.conversation)) {
      wanted = ["ol.messages", ".thread-head h1"];
    }
    if (!wanted) { return; }
    clearTimeout(pending);
    pending = setTimeout(function () { refresh(wanted); }, 100);
  };
}());

// Collision: say who else has this conversation open, and who is typing a reply.
(function () {
  "use strict";
  var thread = document.querySelector("[data-conversation]");
  var banner = document.getElementById("collision");
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!thread || !banner || !meta) { return; }
  var id = thread.dataset.conversation;
  var me = thread.dataset.me;
  var others = {};
  var EXPIRES_MS = 15000;

  function ping(state) {
    fetch("/conversations/" + id + "/presence", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": meta.content,
                 "Content-Type": "application/x-www-form-urlencoded" },
      body: "state=" + state
    });
  }

  function render() {
    var now = Date.now();
    var typing = [], viewing = [];
    Object.keys(others).forEach(function (key) {
      var other = others[key];
      if (now - other.at > EXPIRES_MS) { delete others[key]; return; }
      (other.state === "typing" ? typing : viewing).push(other.name);
    });
    var names = typing.length ? typing : viewing;
    var template = typing.length ? banner.dataset.typing : banner.dataset.viewing;
    banner.hidden = names.length === 0;
    banner.textContent = names.length ? template.replace("{names}", names.join(", ")) : "";
  }

  document.addEventListener("filrouge:presence", function (event) {
    var data = event.detail;
    if (String(data.conversation_id) !== id || String(data.user_id) === me) { return; }
    var known = others[data.user_id];
    others[data.user_id] = { name: data.name, state: data.state, at: Date.now() };
    render();
    if (!known) { ping("viewing"); }  // a newcomer learns we are here too
  });

  var lastTyping = 0;
  var text = document.getElementById("reply-text");
  if (text) {
    text.addEventListener("input", function () {
      if (Date.now() - lastTyping > 3000) { lastTyping = Date.now(); ping("typing"); }
    });
  }
  // Once this page hears the others (its stream is open), tell them we are here: their answer
  // then reaches us. Again every 10 s, so a page that missed it learns it soon.
  document.addEventListener("filrouge:connected", function () { ping("viewing"); });
  setInterval(function () { ping("viewing"); }, 10000);
  setInterval(render, 2000);
}());

// Canned responses: the chosen one goes into the reply where the cursor is.
(function () {
  "use strict";
  var canned = document.getElementById("canned");
  var text = document.getElementById("reply-text");
  if (!canned || !text) { return; }
  canned.addEventListener("change", function () {
    var option = canned.options[canned.selectedIndex];
    if (!option || !option.dataset.text) { return; }
    var start = text.selectionStart || 0, end = text.selectionEnd || 0;
    text.value = text.value.slice(0, start) + option.dataset.text + text.value.slice(end);
    canned.selectedIndex = 0;
    text.focus();
    text.dispatchEvent(new Event("input"));
  });
}());

// Files on the composer: say at once what the server would refuse (too many, too large, empty).
(function () {
  "use strict";
  var input = document.getElementById("reply-files");
  var warning = document.getElementById("files-warning");
  if (!input || !warning) { return; }
  var data = input.dataset;

  function problem() {
    var files = Array.prototype.slice.call(input.files || []);
    var total = 0;
    if (files.length > Number(data.maxFiles)) {
      return data.tooMany.replace("{limit}", data.maxFiles);
    }
    for (var i = 0; i < files.length; i += 1) {
      total += files[i].size;
      if (files[i].size === 0) { return data.empty.replace("{filename}", files[i].name); }
      if (files[i].size > Number(data.maxBytes)) {
        return data.tooLarge.replace("{filename}", files[i].name).replace("{limit_mb}", data.maxMb);
      }
    }
    if (total > Number(data.maxRequest) - 65536) {  // room for the text and the form's framing
      return data.tooMuch.replace("{limit_mb}", data.maxRequestMb);
    }
    return "";
  }

  input.addEventListener("change", function () {
    var message = problem();
    input.setCustomValidity(message);  // the browser then refuses to submit the form
    warning.textContent = message;
    warning.hidden = !message;
  });
}());

// The header's presence: saved as soon as it is chosen.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
}());
