/* Carnet admin: small progressive enhancements. Every page works without this file. */
(function () {
  'use strict';

  // Controls that only make sense with JavaScript (e.g. "Select all").
  document.querySelectorAll('[data-js-only]').forEach((el) => { el.hidden = false; });

  // Live preview: textarea[data-preview-target] → POST /admin/preview → {"html": "..."}.
  document.querySelectorAll('textarea[data-preview-target]').forEach((area) => {
    const target = document.getElementById(area.dataset.previewTarget);
    if (!target) return;
    const field = (area.form || document).querySelector('input[name=csrf_token]');
    const token = field ? field.value : '';
    let timer = 0;
    let seq = 0;
    const update = async () => {
      const mine = ++seq;
      try {
        const res = await fetch('/admin/preview', {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': token },
          body: 'body=' + encodeURIComponent(area.value),
          credentials: 'same-origin'
        });
        if (!res.ok) return;
        const data = await res.json();
        // The HTML is sanitized by the server; drop answers overtaken by newer ones.
        if (mine === seq && data && typeof data.html === 'string') target.innerHTML = data.html;
      } catch (e) { /* offline or server error: keep the previous preview */ }
    };
    area.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(update, 300);
    });
    const placeholder = target.querySelector('.preview-empty');
    if (placeholder) {
      if (area.value.trim()) update();
      else placeholder.textContent = 'The preview follows as you type.';
    }
  });

  // Copy buttons: shown only here, copy data-copy to the clipboard.
  document.querySelectorAll('button.copy').forEach((btn) => {
    const label = btn.textContent;
    let timer = 0;
    btn.hidden = false;
    btn.addEventListener('click', async () => {
      const text = btn.dataset.copy || '';
      let ok = false;
      try {
        await navigator.clipboard.writeText(text);
        ok = true;
      } catch (e) {
        // No Clipboard API (plain http): select the visible snippet instead.
        const item = btn.closest('li') || btn.parentElement;
        const source = item && item.querySelector('.copy-source');
        if (source) {
          source.focus();
          source.select();
          try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
        }
      }
      btn.textContent = ok ? 'Copied' : 'Press Ctrl+C to copy';
      clearTimeout(timer);
      timer = setTimeout(() => { btn.textContent = label; }, 2000);
    });
  });

  // Read-only snippets: select everything on focus.
  document.querySelectorAll('input.copy-source').forEach((input) => {
    input.addEventListener('focus', () => input.select());
  });

  // Ask before destructive actions.
  document.addEventListener('click', (event) => {
    const el = event.target instanceof Element ? event.target.closest('[data-confirm]') : null;
    if (el && !window.confirm(el.dataset.confirm)) event.preventDefault();
  });

  // "Select all" checkboxes toggle every input[name=ids] of their form.
  document.querySelectorAll('input.select-all').forEach((box) => {
    const form = box.form || box.closest('form');
    if (!form) return;
    const items = () => Array.from(form.querySelectorAll('input[name=ids]'));
    box.addEventListener('change', () => {
      items().forEach((i) => { i.checked = box.checked; });
    });
    form.addEventListener('change', (event) => {
      if (event.target.name !== 'ids') return;
      const all = items();
      const checked = all.filter((i) => i.checked).length;
      box.checked = all.length > 0 && checked === all.length;
      box.indeterminate = checked > 0 && checked < all.length;
    });
  });
})();
