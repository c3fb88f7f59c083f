// Progressive enhancement for an export job's page: poll the job's status and move the
// progress bar. Without JavaScript the page reloads itself (a <noscript> meta refresh).
const POLL_MS = 1500;

function start(root) {
  const url = root.dataset.statusUrl;
  const bar = root.querySelector("progress");
  const status = root.querySelector("[role=status]");
  let lastText = status ? status.textContent.trim() : "";

  async function poll() {
    let state;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      state = await response.json();
    } catch {
      window.setTimeout(poll, POLL_MS * 2);
      return;
    }
    if (state.finished) {
      window.location.reload(); // the server renders the result: download, or what went wrong
      return;
    }
    bar.value = state.progress;
    bar.textContent = `${state.progress}%`;
    // The status line is a live region: the server's words change once a quarter, so it is
    // spoken then, not on every percent.
    const text = state.progress_words;
    if (status && text !== lastText) {
      status.textContent = text;
      lastText = text;
    }
    window.setTimeout(poll, POLL_MS);
  }
  window.setTimeout(poll, POLL_MS);
}

document.querySelectorAll('[data-module="app-export-progress"]').forEach(start);
