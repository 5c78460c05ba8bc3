// OpenNRM's script: starts GOV.UK Frontend's components, the idle-timeout warning, autosave,
// scrolling boxes for tables and the autocomplete of long lists.
// Every page works without it.
import { initAll } from "./govuk-frontend.min.js";

initAll();

function startTimeoutWarning(dialog) {
  const idle = Number(dialog.dataset.idleSeconds) * 1000;
  const warning = Number(dialog.dataset.warningSeconds) * 1000;
  const countdown = dialog.querySelector(".app-timeout-dialog__countdown");
  const csrf = dialog.querySelector("input[name=csrfmiddlewaretoken]").value;
  let deadline = Date.now() + idle;
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
    const left = deadline - Date.now();
    if (left <= 0) {
      window.location.href = dialog.dataset.signedOutUrl;
      return;
    }
    if (left <= warning) {
      if (!dialog.open) dialog.showModal();
      countdown.textContent = describe(left);
    }
    timer = window.setTimeout(tick, 1000);
  };

  dialog.querySelector("[data-action=stay]").addEventListener("click", async () => {
    const response = await fetch(dialog.dataset.keepaliveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf },
      credentials: "same-origin",
    });
    if (!response.ok) {
      window.location.href = dialog.dataset.signedOutUrl;
      return;
    }
    deadline = Date.now() + idle;
    dialog.close();
    window.clearTimeout(timer);
    tick();
  });

  tick();
}

const dialog = document.getElementById("session-timeout");
if (dialog) startTimeoutWarning(dialog);

// Referral pages save each answer the moment it is given, not only on "Save and continue",
// so closing the tab or losing the connection loses nothing already chosen or typed.
function autosave(form) {
  const status = document.createElement("p");
  status.className = "govuk-body-s app-autosave-status";
  status.setAttribute("role", "status");
  form.append(status);
  let pending = null;

  const save = async () => {
    const response = await fetch(form.action || window.location.href, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Autosave": "1" },
      credentials: "same-origin",
    });
    if (response.ok) {
      form.dataset.saved = "true";
      status.textContent = "Your answers have been saved.";
    } else {
      status.textContent = "Your answers could not be saved just now. Use Save and continue.";
    }
  };

  form.addEventListener("change", () => {
    form.dataset.saved = "false";
    window.clearTimeout(pending);
    pending = window.setTimeout(save, 300);
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
// believe they may be under 18?" after "Not sure") is shown only then.
document.querySelectorAll("[data-app-show-when]").forEach((block) => {
  const radios = Array.from(
    document.querySelectorAll(`input[name="${block.dataset.appShowWhen}"]`),
  );
  const update = () => {
    block.hidden = !radios.some((r) => r.checked && r.value === block.dataset.appShowValue);
  };
  radios.forEach((radio) => radio.addEventListener("change", update));
  update();
});
