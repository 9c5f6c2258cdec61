// The opening hall, live: the state comes from the server (first embedded, then by server-sent events);
// countdowns run from the server's clock, corrected for this computer's offset.
(function () {
  "use strict";
  const hall = document.getElementById("hall");
  if (!hall) return;
  const labels = JSON.parse(document.getElementById("hall-labels").textContent);
  let state = JSON.parse(document.getElementById("hall-state").textContent);
  let offset = Date.parse(state.now) - Date.now();  // server minus local

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function setText(id, text) { const n = document.getElementById(id); if (n) n.textContent = text; }
  function localTime(iso) {
    return new Date(iso).toLocaleString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false});
  }
  function countdown(node) {
    if (!node || !node.dataset.until) return;
    const left = Date.parse(node.dataset.until) - (Date.now() + offset);
    if (left <= 0) { node.textContent = labels.over; return; }
    const s = Math.floor(left / 1000), m = Math.floor(s / 60);
    node.textContent = m + ":" + String(s % 60).padStart(2, "0");
  }

  function render() {
    const o = state.opening;
    setText("section-status", state.section.status_label);
    if (!o) { if (hall.dataset.status !== "none") location.reload(); return; }
    if (hall.dataset.status === "none") { location.reload(); return; }  // the opening has just started
    hall.dataset.status = o.status;
    setText("opening-status", o.status_label);
    document.querySelectorAll("[data-when]").forEach(function (n) {
      n.hidden = n.dataset.when.split(" ").indexOf(o.status) < 0;
    });
    const signInForm = document.getElementById("sign-in-form");
    if (signInForm && o.signed_in) signInForm.hidden = true;
    const oc = document.getElementById("objection-countdown");
    if (oc && o.objections_end_at) oc.dataset.until = o.objections_end_at;

    const holders = document.getElementById("keyholders");
    holders.replaceChildren.apply(holders, o.keyholders.map(function (k) {
      const li = el("li", (labels[k.role] || k.role) + (k.mine ? " (" + labels.you + ")" : "") + ": ");
      li.appendChild(el("span", k.released ? labels.released + " " + localTime(k.at) : labels.waiting,
                        k.released ? "text-success" : "text-muted"));
      li.dataset.role = k.role;
      return li;
    }));
    const signIns = document.getElementById("sign-ins");
    signIns.replaceChildren.apply(signIns, o.sign_ins.map(function (s) {
      return el("li", s.bidder + " · " + localTime(s.at));
    }));

    const total = o.progress.total || 0, done = o.progress.done || 0;
    setText("progress-text", done + " / " + total);
    const bar = document.getElementById("progress-bar");
    if (bar) bar.style.width = (total ? Math.round(100 * done / total) : 0) + "%";

    const body = document.querySelector("#results tbody");
    if (!o.results.length) {
      const row = el("tr"); const cell = el("td", labels.no_bids_yet, "text-muted"); cell.colSpan = 7;
      row.appendChild(cell); body.replaceChildren(row);
    } else {
      body.replaceChildren.apply(body, o.results.map(function (r) {
        const row = el("tr");
        row.dataset.bidder = r.credit_code;
        row.appendChild(el("td", r.sequence));
        row.appendChild(el("td", r.bidder));
        const result = el("td", r.outcome_label);
        if (r.cause) { result.appendChild(el("div", r.cause_message + " [" + r.cause + "]", "small text-danger")); }
        row.appendChild(result);
        row.appendChild(el("td", r.price_text, "text-end price"));
        row.appendChild(el("td", Object.keys(r.terms).map(function (k) { return k + ": " + r.terms[k]; }).join("; ")));
        row.appendChild(el("td", r.guarantee_label + (["valid", "not_required"].indexOf(r.guarantee) < 0 ? " [" + r.guarantee + "]" : ""),
                           "guarantee " + (r.guarantee === "valid" ? "text-success" : "text-danger")));
        row.appendChild(el("td", r.valid ? labels.valid : labels.invalid, r.valid ? "text-success" : "text-danger"));
        return row;
      }));
    }
    const few = document.getElementById("few-bids");
    if (few) few.hidden = !o.needs_decision;
    const decisionForm = document.getElementById("decision-form");
    if (decisionForm) decisionForm.hidden = !(o.needs_decision && !o.decision);
    const decision = document.getElementById("decision");
    if (decision) {
      decision.hidden = !o.decision;
      decision.textContent = o.decision ? (labels[o.decision] + ": " + o.decision_ground) : "";
    }
    const responses = document.getElementById("responses");
    if (responses) {
      responses.replaceChildren.apply(responses, o.responses.map(function (r) {
        const li = el("li", r.bidder + ": " + labels[r.kind] + (r.text ? " — " + r.text : ""));
        if (r.answer) li.appendChild(el("div", labels.answer + ": " + r.answer, "small text-muted ms-3"));
        return li;
      }));
    }
    const respond = document.getElementById("respond-form");
    if (respond && o.responses.some(function (r) { return r.mine; })) respond.hidden = true;
  }

  render();
  setInterval(function () {
    countdown(document.getElementById("countdown"));
    countdown(document.getElementById("objection-countdown"));
  }, 250);
  if (window.EventSource) {
    const source = new EventSource(hall.dataset.events);
    let failures = 0;
    source.onmessage = function (event) {
      failures = 0;
      document.getElementById("hall-offline").hidden = true;
      state = JSON.parse(event.data);
      offset = Date.parse(state.now) - Date.now();
      render();
    };
    source.onerror = function () {
      // A stream ending is normal (it reconnects); one that cannot reconnect (signed out, server down) is not.
      failures += 1;
      if (source.readyState === EventSource.CLOSED || failures >= 3) {
        document.getElementById("hall-offline").hidden = false;
        if (source.readyState === EventSource.CLOSED) source.close();
      }
    };
  }
})();
