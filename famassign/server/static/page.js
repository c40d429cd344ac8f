// famassign planner: small progressive enhancements. Every form works without this file.

// Step 1: files dropped on the box are put into the file input, and their names listed.
function setupDrop(box) {
  const input = box.querySelector('input[type="file"]');
  const list = box.querySelector("[data-chosen]");
  const show = () => {
    list.replaceChildren(...Array.from(input.files).map((f) => {
      const li = document.createElement("li");
      li.textContent = `${f.name} (${Math.ceil(f.size / 1024)} KB)`;
      return li;
    }));
  };
  input.addEventListener("change", show);
  box.addEventListener("dragover", (e) => { e.preventDefault(); box.classList.add("over"); });
  box.addEventListener("dragleave", () => box.classList.remove("over"));
  box.addEventListener("drop", (e) => {
    e.preventDefault();
    box.classList.remove("over");
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      show();
    }
  });
}

// Step 3 (and a sweep of step 6): poll the job; go to the plan (or show the sweep) when it is done.
function setupJob(panel) {
  const id = panel.dataset.job;
  const bar = panel.querySelector("[data-progress]");
  const state = panel.querySelector("[data-state]");
  const stage = panel.querySelector("[data-stage]");
  const elapsed = panel.querySelector("[data-elapsed]");
  const status = panel.querySelector("[data-status]");
  const done = panel.querySelector("[data-done]");
  const total = panel.querySelector("[data-total]");
  const what = panel.dataset.what || "plan";
  const poll = async () => {
    const response = await fetch(`/jobs/${id}/status`, { headers: { Accept: "application/json" } });
    if (!response.ok) { status.textContent = `Could not read the job (${response.status}).`; return; }
    const job = await response.json();
    state.textContent = job.state;
    stage.textContent = job.stage;
    elapsed.textContent = job.elapsed_s;
    bar.max = job.total;
    bar.value = job.done;
    if (done) done.textContent = job.done;
    if (total) total.textContent = job.total;
    if (job.state === "done" && job.plan_id) { window.location.assign(`/p/${job.plan_id}`); return; }
    if (job.state === "done") { window.location.reload(); return; }  // a sweep: its page shows the answer
    if (job.state === "failed") { status.textContent = `The ${what} failed: ${job.message}`; return; }
    if (job.state === "cancelled") { status.textContent = "Cancelled. Nothing was kept."; return; }
    setTimeout(poll, 400);
  };
  if (["queued", "running"].includes(state.textContent.trim())) setTimeout(poll, 300);
}

// Step 4: the families filter asks the server for the table only, and keeps the address.
function setupFilter(form) {
  const target = () => document.querySelector("[data-families]");
  const load = async (query) => {
    const response = await fetch(`${form.dataset.filter}?${query}`);
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    target().replaceWith(holder.firstElementChild);
    history.replaceState(null, "", `${form.action}?${query}#families`);
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load(new URLSearchParams(new FormData(form)).toString());
  });
  form.querySelectorAll("select").forEach((s) => s.addEventListener("change", () => form.requestSubmit()));
  document.addEventListener("click", (e) => {
    const link = e.target.closest("[data-page]");
    if (!link) return;
    e.preventDefault();
    load(new URL(link.href).search.slice(1));
  });
}

// Step 6: show the fields of the chosen change only (hidden fieldsets are disabled, not sent).
function setupWhatIf(form) {
  const choice = form.querySelector("[data-change]");
  const sync = () => {
    form.querySelectorAll("fieldset[data-kind]").forEach((fs) => {
      const on = fs.dataset.kind === choice.value;
      fs.hidden = !on;
      fs.disabled = !on;
    });
  };
  choice.addEventListener("change", sync);
  sync();
}

// Step 1: every correction on the mapping form is kept as soon as it is made (in the store);
// a change followed at once by a submit goes with the submit instead.
function setupKeep(form) {
  const said = form.querySelector("[data-kept]");
  let pending = 0;
  const keep = async () => {
    const body = new FormData(form);
    body.set("action", "save");
    body.set("quiet", "1");
    const url = form.getAttribute("action"); // form.action is the button named "action"
    const answer = await fetch(url, { method: "POST", body, credentials: "same-origin" });
    said.textContent = answer.ok ? "Kept." : "Not kept: use Keep these corrections.";
  };
  form.addEventListener("change", () => {
    clearTimeout(pending);
    pending = setTimeout(keep, 400);
  });
  form.addEventListener("submit", () => clearTimeout(pending));
}

document.querySelectorAll("[data-drop]").forEach(setupDrop);
document.querySelectorAll("[data-job]").forEach(setupJob);
document.querySelectorAll("form[data-filter]").forEach(setupFilter);
document.querySelectorAll("form[data-whatif]").forEach(setupWhatIf);
document.querySelectorAll("form[data-keep]").forEach(setupKeep);
