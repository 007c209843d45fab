"use strict";
// The dashboard polls status.json every second, keeps five minutes of
// samples per server in memory and draws them as sparklines.
(function () {
  const KEEP = 300; // samples (seconds)
  const history = new Map(); // "proto/group/server" -> {prev, rps:[], err:[], lat:[]}
  const groupsEl = document.getElementById("groups");
  const updated = document.getElementById("updated");
  let status = null;

  function push(a, v) { a.push(v); if (a.length > KEEP) a.shift(); }

  function record(st) {
    for (const g of st.groups) for (const s of g.servers) {
      const key = g.protocol + "/" + g.name + "/" + s.server;
      let h = history.get(key);
      if (!h) { h = { prev: null, rps: [], err: [], lat: [] }; history.set(key, h); }
      if (h.prev) {
        const dt = Math.max((st.time - h.prev.time) / 1000, 0.001);
        const dr = Math.max(s.requests - h.prev.requests, 0);
        const de = Math.max(s.errors - h.prev.errors, 0);
        const dn = Math.max(s.timed - h.prev.timed, 0);
        push(h.rps, dr / dt);
        push(h.err, dr > 0 ? Math.min(100, 100 * de / dr) : 0);
        push(h.lat, dn > 0 ? (s.time_ms - h.prev.time_ms) / dn : (h.lat.length ? h.lat[h.lat.length - 1] : 0));
      }
      h.prev = { time: st.time, requests: s.requests, errors: s.errors, timed: s.timed, time_ms: s.time_ms };
    }
  }

  function spark(canvas, data, color) {
    const dpr = window.devicePixelRatio || 1, w = 120, hgt = 28;
    canvas.width = w * dpr; canvas.height = hgt * dpr;
    const c = canvas.getContext("2d");
    c.scale(dpr, dpr);
    c.clearRect(0, 0, w, hgt);
    if (data.length < 2) return;
    const max = Math.max(...data, 1e-9);
    // The first 20 seconds fill the width; later, up to five minutes do.
    const span = Math.min(Math.max(data.length, 20), KEEP) - 1;
    c.strokeStyle = color; c.lineWidth = 1.5; c.beginPath();
    data.forEach((v, i) => {
      const x = w - ((data.length - 1 - i) / span) * w;
      const y = hgt - 2 - (v / max) * (hgt - 4);
      if (i === 0) c.moveTo(x, y); else c.lineTo(x, y);
    });
    c.stroke();
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  }

  function last(a) { return a.length ? a[a.length - 1] : 0; }

  async function change(g, s, body, what) {
    if (!window.confirm(what + " " + s.server + " in " + g.name + "?")) return;
    const url = status.api.replace(/\/$/, "") + "/9/" + g.protocol + "/upstreams/" + encodeURIComponent(g.name) + "/servers/" + s.id;
    const resp = await fetch(url, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!resp.ok) window.alert("The API refused: " + resp.status + " " + (await resp.text()));
    poll();
  }

  function actions(g, s) {
    const box = el("div", { class: "actions" });
    const td = el("td", { "data-label": "actions" }, box);
    if (!status.write || !status.api) return td;
    if (s.state === "draining") box.append(el("button", { class: "enable", onclick: () => change(g, s, { drain: false, down: false }, "Enable") }, "enable"));
    else if (s.state === "down") box.append(el("button", { class: "enable", onclick: () => change(g, s, { down: false }, "Enable") }, "enable"));
    else box.append(el("button", { class: "drain", onclick: () => change(g, s, { drain: true }, "Drain") }, "drain"));
    box.append(el("button", { class: "weight", onclick: () => {
      const w = window.prompt("New weight for " + s.server, String(s.weight));
      if (w !== null && /^\d+$/.test(w) && +w > 0) change(g, s, { weight: +w }, "Set weight " + w + " for");
    } }, "weight"));
    return td;
  }

  // Rows are rebuilt only when the structure changes (servers, states,
  // weights); otherwise figures are updated in place, so a button under
  // the pointer is never replaced between press and release.
  let shape = "";
  const cells = new Map(); // key -> {active, rps, err, lat, hc, c1, c2, c3}

  function fill(g, s) {
    const key = g.protocol + "/" + g.name + "/" + s.server;
    const h = history.get(key), c = cells.get(key);
    c.active.textContent = String(s.active);
    c.rps.textContent = last(h.rps).toFixed(1);
    c.err.textContent = last(h.err).toFixed(1);
    c.lat.textContent = last(h.lat).toFixed(1);
    c.hc.textContent = s.health_checks ? (s.health_checks.last_passed ? "passed" : "failed") + " (" + s.health_checks.fails + "/" + s.health_checks.checks + " failed)" : "—";
    spark(c.c1, h.rps, "#2b6cb0"); spark(c.c2, h.err, "#c53030"); spark(c.c3, h.lat, "#1f9d55");
  }

  function render() {
    const now = JSON.stringify([status.write, status.groups.map(g => [g.protocol, g.name, g.servers.map(s => [s.id, s.server, s.state, s.weight, s.backup])])]);
    if (now === shape) {
      for (const g of status.groups) for (const s of g.servers) fill(g, s);
      return;
    }
    shape = now;
    cells.clear();
    const frag = document.createDocumentFragment();
    if (!status.groups.length) frag.append(el("p", {}, "No upstream groups."));
    for (const g of status.groups) {
      const tbody = el("tbody");
      for (const s of g.servers) {
        const c = { active: el("span"), rps: el("div"), err: el("div"), lat: el("div"), hc: el("span"), c1: el("canvas"), c2: el("canvas"), c3: el("canvas") };
        cells.set(g.protocol + "/" + g.name + "/" + s.server, c);
        tbody.append(el("tr", { "data-server": s.server, "data-state": s.state, "data-group": g.name },
          el("td", { "data-label": "server" }, s.server + (s.backup ? " (backup)" : "")),
          el("td", { "data-label": "state" }, el("span", { class: "state " + s.state }, s.state.replace("_", " "))),
          el("td", { class: "num", "data-label": "weight" }, String(s.weight)),
          el("td", { class: "num", "data-label": "active" }, c.active),
          el("td", { "data-label": "req/s" }, c.rps, c.c1),
          el("td", { "data-label": "errors %" }, c.err, c.c2),
          el("td", { "data-label": "latency ms" }, c.lat, c.c3),
          el("td", { "data-label": "health check" }, c.hc),
          actions(g, s)));
        fill(g, s);
      }
      frag.append(el("section", { "data-group": g.name },
        el("h2", {}, g.name, el("small", {}, g.protocol + " · " + g.servers.length + " servers")),
        el("div", { class: "scroll" }, el("table", {},
          el("thead", {}, el("tr", {}, ...["server", "state", "weight", "active", "req/s", "errors %", "latency ms", "health check", ""].map(t => el("th", {}, t)))),
          tbody))));
    }
    groupsEl.replaceChildren(frag);
  }

  async function poll() {
    try {
      const resp = await fetch("status.json", { cache: "no-store" });
      if (!resp.ok) throw new Error("status " + resp.status);
      status = await resp.json();
      record(status);
      render();
      updated.textContent = "updated " + new Date(status.time).toLocaleTimeString();
    } catch (e) {
      updated.textContent = "cannot reach bunsan (" + e.message + "); retrying";
    }
  }
  poll();
  setInterval(poll, 1000);
})();
