// OpenNRM's script: starts GOV.UK Frontend's components, the idle-timeout warning, autosave,
// scrolling boxes for tables and the autocomplete of long lists.
// Every page works without it.
import { initAll } from "./govuk-frontend.min.js";

initAll();

// The session ends after a while without a request, whichever tab made it. So every tab of this
// browser shares the time of the latest one (a page loaded, "Stay signed in", an answer saved
// as it is typed) through localStorage, and counts down from that: a tab left open on one page
// neither warns nor signs out while another is in use.
const ACTIVITY_KEY = "opennrm:last-activity";
const activity = {
  local: Date.now(),
  latest() {
    let shared = 0;
    try {
      shared = Number(window.localStorage.getItem(ACTIVITY_KEY)) || 0;
    } catch {
      // Storage refused (a privacy setting): this tab counts on its own.
    }
    return Math.max(this.local, shared);
  },
  note() {
    this.local = Date.now();
    try {
      window.localStorage.setItem(ACTIVITY_KEY, String(this.local));
    } catch {
      // As above.
    }
  },
};

function startTimeoutWarning(dialog) {
  const idle = Number(dialog.dataset.idleSeconds) * 1000;
  const warning = Number(dialog.dataset.warningSeconds) * 1000;
  const countdown = dialog.querySelector(".app-timeout-dialog__countdown");
  const csrf = dialog.querySelector("input[name=csrfmiddlewaretoken]").value;
  const signOut = dialog.querySelector("form[data-idle-sign-out]");
  let timer = null;

  const describe = (ms) => {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      return `${minutes} minute${minutes === 1 ? "" : "s"}`;
    }
    return `${seconds} second${seconds === 1 ? "" : "s"}`;
  };

  const tick = () => {
    const left = activity.latest() + idle - Date.now();
    if (left <= 0) {
      // A POST with the CSRF token; the server still keeps the session if another tab used it.
      signOut.submit();
      return;
    }
    if (left <= warning) {
      if (!dialog.open) dialog.showModal();
      countdown.textContent = describe(left);
    } else if (dialog.open) {
      // Another tab, or an answer saved here, renewed the session meanwhile.
      dialog.close();
    }
    timer = window.setTimeout(tick, 1000);
  };

  const keepAlive = () =>
    fetch(dialog.dataset.keepaliveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf },
      credentials: "same-origin",
      redirect: "manual",
    });

  dialog.querySelector("[data-action=stay]").addEventListener("click", async () => {
    const response = await keepAlive();
    if (response.status !== 204) {
      // The session has already ended (the answer is a redirect to sign in).
      window.location.href = dialog.dataset.signedOutUrl;
      return;
    }
    activity.note();
    dialog.close();
    window.clearTimeout(timer);
    tick();
  });

  // Someone typing is not away: a long account or a decision's reasons written in one box,
  // without a request for longer than the idle time, must not end in signing out and losing
  // it. Typing in a form that does not save itself renews the session now and then (pages that
  // autosave renew it by saving).
  const renewEvery = Math.min(60_000, idle / 4);
  let renewing = false;
  document.addEventListener("input", async (event) => {
    const form = event.target.closest && event.target.closest("form");
    if (!form || form.hasAttribute("data-autosave") || form.closest("dialog")) return;
    if (renewing || Date.now() - activity.latest() < renewEvery) return;
    renewing = true;
    try {
      if ((await keepAlive()).status === 204) activity.note();
    } catch {
      // Offline for a moment: the countdown goes on, and the warning still offers to stay.
    } finally {
      renewing = false;
    }
  });

  tick();
}

const dialog = document.getElementById("session-timeout");
if (dialog) {
  activity.note();
  startTimeoutWarning(dialog);
}

// Referral pages save each answer the moment it is given, not only on "Save and continue",
// so closing the tab or losing the connection loses nothing already chosen or typed.
function autosave(form) {
  const status = document.createElement("p");
  status.className = "govuk-body-s app-autosave-status";
  status.setAttribute("role", "status");
  form.append(status);
  let pending = null;
  // One save at a time, in the order they were made: two in flight could arrive the other way
  // round, and an older text overwrite a newer one.
  let saving = Promise.resolve();

  const unsaved = "Your answers could not be saved just now. Use Save and continue.";
  const post = async () => {
    let response;
    try {
      response = await fetch(form.action || window.location.href, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Autosave": "1" },
        credentials: "same-origin",
        redirect: "manual",
      });
    } catch {
      // No connection: the answers are still on the page.
      status.textContent = unsaved;
      return;
    }
    // 204: saved. Anything else (a redirect to sign in once the session has ended) is not.
    if (response.status === 204) {
      activity.note();
      form.dataset.saved = "true";
      status.textContent = "Your answers have been saved.";
    } else if (response.status === 409) {
      // Refused, not failed (submitted in another tab): the server says why, in plain text.
      status.textContent = (await response.text()).slice(0, 200);
    } else {
      status.textContent = unsaved;
    }
  };
  const save = () => {
    saving = saving.then(post, post);
    return saving;
  };

  form.addEventListener("change", () => {
    form.dataset.saved = "false";
    window.clearTimeout(pending);
    pending = window.setTimeout(save, 300);
  });
  // A text box fires "change" only when it is left: someone writing a long account in one box
  // would otherwise have nothing saved, and no request made, until they leave it. Typing saves
  // once they pause.
  form.addEventListener("input", (event) => {
    if (!event.target.matches("textarea, input[type=text], input:not([type])")) return;
    form.dataset.saved = "false";
    window.clearTimeout(pending);
    pending = window.setTimeout(save, 1500);
  });
}

document.querySelectorAll("form[data-autosave]").forEach(autosave);

// A table wider than a narrow screen scrolls sideways in its own box, which keyboard users
// can reach and scroll, and which screen readers announce by the table's caption.
document.querySelectorAll("table.govuk-table").forEach((table, index) => {
  if (table.closest(".app-table-wrapper, .app-table-scroll")) return;
  const box = document.createElement("div");
  box.className = "app-table-scroll";
  box.setAttribute("role", "region");
  box.setAttribute("tabindex", "0");
  const caption = table.querySelector("caption");
  box.setAttribute("aria-label", caption ? caption.textContent.trim() : `Table ${index + 1}`);
  table.before(box);
  box.append(table);
});

// "I have not seen any of these" on the indicator checklist stands apart from the groups of
// indicators (one group per dimension), so GOV.UK's exclusive checkbox cannot reach them:
// ticking it unticks every indicator, and ticking an indicator unticks it.
document.querySelectorAll("[data-app-exclusive]").forEach((group) => {
  const none = group.querySelector("input[type=checkbox]");
  const others = () =>
    Array.from(none.form.querySelectorAll(`input[name="${group.dataset.appExclusive}"]`));
  none.addEventListener("change", () => {
    if (none.checked) others().forEach((box) => { box.checked = false; });
  });
  others().forEach((box) => {
    box.addEventListener("change", () => {
      if (box.checked) none.checked = false;
    });
  });
});

// Long lists of countries and languages: type to find, with the GOV.UK accessible
// autocomplete, enhancing the <select> (which still works without JavaScript).
if (window.accessibleAutocomplete) {
  document.querySelectorAll("select[data-app-autocomplete]").forEach((select) => {
    window.accessibleAutocomplete.enhanceSelectElement({
      selectElement: select,
      defaultValue: "",
      showAllValues: true,
    });
  });
}

// A question that applies only after a given answer (the age page's "Is there any reason to
// believe they may be under 18?" after "Not sure"; a decision's main negative reason after a
// negative outcome) is shown only then. `data-app-show-value` may list several answers,
// separated by spaces.
document.querySelectorAll("[data-app-show-when]").forEach((block) => {
  const radios = Array.from(
    document.querySelectorAll(`input[name="${block.dataset.appShowWhen}"]`),
  );
  const answers = block.dataset.appShowValue.split(" ");
  const update = () => {
    block.hidden = !radios.some((r) => r.checked && answers.includes(r.value));
  };
  radios.forEach((radio) => radio.addEventListener("change", update));
  update();
});
