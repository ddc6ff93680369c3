/* oaflow 协同办公: small progressive enhancements; every form also works without this file
   (except drawing a signature, which needs a canvas). No framework, no build step. */
(function () {
  "use strict";

  /* 常用意见: picking a phrase puts it into the opinion box (appended when something is typed). */
  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (!picker.matches || !picker.matches("select[data-phrase-for]")) return;
    var box = document.getElementById(picker.getAttribute("data-phrase-for"));
    if (box && picker.value) {
      var current = box.value.replace(/\s+$/, "");
      box.value = current ? current + "\n" + picker.value : picker.value;
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.focus();
    }
    picker.value = "";
  });

  /* The printable pages (审批单, 处理单, 红头): the 打印 button opens the browser's print dialog. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (!button) return;
    event.preventDefault();
    window.print();
  });

  /* Forms that need a second thought (撤销, 撤回) ask before they are sent. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  /* 批量同意: one box checks or clears every row's box of its class. */
  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("input[data-select-all]")) return;
    document.querySelectorAll("input." + all.getAttribute("data-select-all")).forEach(function (box) {
      box.checked = all.checked;
    });
  });

  /* Person pickers: filter the checkbox list by name. */
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-filter-for]")) return;
    var list = document.getElementById(input.getAttribute("data-filter-for"));
    if (!list) return;
    var text = input.value.trim().toLowerCase();
    list.querySelectorAll(".people-group").forEach(function (group) {
      var shown = 0;
      group.querySelectorAll("label").forEach(function (label) {
        var match = !text || label.textContent.toLowerCase().indexOf(text) >= 0 ||
          label.querySelector("input").value.toLowerCase().indexOf(text) >= 0;
        label.hidden = !match;
        if (match) shown += 1;
      });
      group.hidden = shown === 0;
    });
  });

  /* 签名留痕: a signature pad for mouse, finger and pen (pointer events). The hidden input holds a
     PNG data URL of what was drawn, at CSS-pixel size so it stays well under the 64 KB limit. */
  var MAX_DATA_URL = 80000;

  function SignaturePad(pad) {
    this.pad = pad;
    this.canvas = pad.querySelector("canvas");
    this.input = document.getElementById(pad.getAttribute("data-input"));
    this.drawing = false;
    this.dirty = false;
    this.last = null;
    var self = this;
    this.canvas.addEventListener("pointerdown", function (e) { self.down(e); });
    this.canvas.addEventListener("pointermove", function (e) { self.move(e); });
    this.canvas.addEventListener("pointerup", function () { self.up(); });
    this.canvas.addEventListener("pointercancel", function () { self.up(); });
    this.canvas.addEventListener("lostpointercapture", function () { self.up(); });
    var box = pad.closest("details");
    if (box) box.addEventListener("toggle", function () { if (box.open) self.fit(); });
    window.addEventListener("resize", function () { if (!self.dirty) self.fit(); });
    this.fit();
  }

  SignaturePad.prototype.fit = function () {
    var canvas = this.canvas;
    var width = canvas.clientWidth, height = canvas.clientHeight;
    if (!width || !height) return false; // inside a closed <details>: sized when opened
    var ratio = Math.min(window.devicePixelRatio || 1, 2);
    var w = Math.round(width * ratio), h = Math.round(height * ratio);
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      this.ctx = null;
    }
    if (!this.ctx) {
      this.ctx = canvas.getContext("2d");
      this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      this.ctx.lineWidth = 2.2;
      this.ctx.lineCap = "round";
      this.ctx.lineJoin = "round";
      this.ctx.strokeStyle = this.ctx.fillStyle = "#14213d";
      if (this.input.value) this.restore();
    }
    return true;
  };

  SignaturePad.prototype.restore = function () { // a re-shown form keeps what was drawn
    var self = this, image = new Image();
    image.onload = function () {
      self.ctx.drawImage(image, 0, 0, self.canvas.clientWidth, self.canvas.clientHeight);
      self.dirty = true;
      self.pad.classList.add("signed");
    };
    image.src = this.input.value;
  };

  SignaturePad.prototype.point = function (e) {
    var rect = this.canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  };

  SignaturePad.prototype.down = function (e) {
    if (e.button !== undefined && e.button > 0) return;
    if (!this.fit()) return;
    e.preventDefault();
    this.drawing = true;
    this.last = this.point(e);
    if (this.canvas.setPointerCapture) this.canvas.setPointerCapture(e.pointerId);
    this.ctx.beginPath();
    this.ctx.arc(this.last.x, this.last.y, this.ctx.lineWidth / 2, 0, Math.PI * 2);
    this.ctx.fill();
    this.pad.classList.add("signed");
  };

  SignaturePad.prototype.move = function (e) {
    if (!this.drawing) return;
    e.preventDefault();
    var events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    if (!events.length) events = [e];
    for (var i = 0; i < events.length; i += 1) {
      var p = this.point(events[i]);
      this.ctx.beginPath();
      this.ctx.moveTo(this.last.x, this.last.y);
      this.ctx.lineTo(p.x, p.y);
      this.ctx.stroke();
      this.last = p;
    }
    this.dirty = true;
  };

  SignaturePad.prototype.up = function () {
    if (!this.drawing) return;
    this.drawing = false;
    this.dirty = true;
    this.input.value = this.export();
  };

  SignaturePad.prototype.export = function () {
    var width = this.canvas.clientWidth, height = this.canvas.clientHeight;
    for (var scale = 1; scale >= 0.25; scale /= 2) {
      var out = document.createElement("canvas");
      out.width = Math.max(1, Math.round(width * scale));
      out.height = Math.max(1, Math.round(height * scale));
      out.getContext("2d").drawImage(this.canvas, 0, 0, out.width, out.height);
      var url = out.toDataURL("image/png");
      if (url.length <= MAX_DATA_URL) return url;
    }
    return "";
  };

  SignaturePad.prototype.clear = function () {
    if (this.ctx) this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.input.value = "";
    this.dirty = false;
    this.pad.classList.remove("signed");
  };

  /* Computed fields (x-computed, e.g. 天数 from the dates): read-only; a form with data-preview-url asks
     the server what they come to whenever another field changes. Submitting does not depend on this:
     the server computes them again on every save. */
  function previewComputed(form) {
    var shown = form.querySelectorAll("[data-computed]");
    if (!shown.length) return;
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.disabled) return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      var cell = /^(\w+)-(\d+)-(\w+)$/.exec(el.name);
      if (cell && el.closest("[data-table]")) {  /* a table's cell: rows of objects, as the API takes them */
        var rows = data[cell[1]] = data[cell[1]] || {};
        rows[cell[2]] = rows[cell[2]] || {};
        if (el.value !== "") rows[cell[2]][cell[3]] = el.value;
        return;
      }
      if (el.value !== "") data[el.name] = el.value;
    });
    form.querySelectorAll("[data-table]").forEach(function (table) {
      var name = table.getAttribute("data-table");
      var rows = data[name] || {};
      data[name] = Object.keys(rows).sort(function (a, b) { return a - b; }).map(function (k) { return rows[k]; });
    });
    var token = form.querySelector("input[name=csrf_token]");
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token ? token.value : "" },
      body: JSON.stringify({ data: data })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (!answer) return;
      var problems = {};
      (answer.errors || []).forEach(function (e) { problems[e.field] = e.message; });
      shown.forEach(function (input) {
        var name = input.getAttribute("data-computed");
        var value = answer.values ? answer.values[name] : null;
        input.value = value === null || value === undefined ? "" : String(value);
        var note = form.querySelector('[data-computed-note="' + name + '"]');
        if (!note) return;
        if (!note.hasAttribute("data-original")) note.setAttribute("data-original", note.textContent);
        var message = Object.keys(problems).map(function (k) { return problems[k]; }).join("；");
        note.textContent = message || note.getAttribute("data-original");
        note.classList.toggle("problem", !!message);
      });
    }).catch(function () { /* the preview is a convenience: the server checks again on submit */ });
  }
  var previewTimer = null;
  function schedulePreview(event) {
    var form = event.target.form;
    if (!form || !form.hasAttribute("data-preview-url") || event.target.hasAttribute("data-computed")) return;
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(function () { previewComputed(form); }, 250);
  }
  document.addEventListener("change", schedulePreview);
  document.addEventListener("input", schedulePreview);
  document.querySelectorAll("form[data-preview-url]").forEach(previewComputed);

  /* Tables (费用明细): 添加一行 copies the row template with the next free row number; 删除 removes a row. */
  document.addEventListener("click", function (event) {
    var add = event.target.closest && event.target.closest("[data-add-row]");
    var remove = event.target.closest && event.target.closest("[data-remove-row]");
    if (add) {
      var name = add.getAttribute("data-add-row");
      var table = document.querySelector('[data-table="' + name + '"]');
      var template = document.querySelector('template[data-row-template="' + name + '"]');
      var next = 0;
      table.querySelectorAll("input, select").forEach(function (el) {
        var m = /-(\d+)-\w+$/.exec(el.name || "");
        if (m) next = Math.max(next, Number(m[1]) + 1);
      });
      table.querySelector("tbody").insertAdjacentHTML("beforeend", template.innerHTML.replace(/__row__/g, String(next)));
    } else if (remove) {
      var row = remove.closest("tr");
      var form = remove.form;
      row.parentNode.removeChild(row);
      if (form && form.hasAttribute("data-preview-url")) previewComputed(form);
    }
  });

  var pads = {};
  document.querySelectorAll(".sigpad[data-input]").forEach(function (pad) {
    pads[pad.getAttribute("data-input")] = new SignaturePad(pad);
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-sig-clear]");
    if (!button) return;
    var pad = pads[button.getAttribute("data-sig-clear")];
    if (pad) pad.clear();
  });
})();
