// Accessibility basics, checked in the page: every control has a name, text has enough contrast
// (WCAG AA: 4.5:1, 3:1 for large text), and Tab moves forward through the page in document order
// with a visible focus indicator.

export async function unlabelledControls(page) {
  return page.evaluate(() => {
    const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
    const named = (el) =>
      (el.getAttribute("aria-label") || "").trim() ||
      (el.getAttribute("aria-labelledby") || "").trim() ||
      [...(el.labels || [])].map((l) => l.textContent.trim()).join("") ||
      (el.tagName === "BUTTON" || el.tagName === "A" ? el.textContent.trim() : "");
    return [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button, a[href]")]
      .filter(visible)
      .filter((el) => !named(el))
      .map((el) => el.outerHTML.slice(0, 120));
  });
}

export async function lowContrast(page) {
  return page.evaluate(() => {
    const rgba = (text) => (text.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const failures = [];
    for (const el of document.querySelectorAll("body *")) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own || el.getClientRects().length === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || el.closest("[hidden], .sr-only, .chart")) continue;
      const fg = rgba(style.color).slice(0, 3);
      const [l1, l2] = [lum(fg), lum(background(el))].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const needed = large ? 3 : 4.5;
      if (ratio < needed && !(el.disabled || el.closest(":disabled"))) {
        failures.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1 < ${needed}`);
      }
    }
    return failures;
  });
}

// From the skip link (the page's first stop), Tab `steps` times: each focused element must follow
// the previous one in document order (no positive tabindex jumps) and show a focus outline.
export async function focusOrder(page, steps = 12) {
  await page.evaluate(() => { window.__focusTrail = [document.querySelector(".skip")]; document.querySelector(".skip").focus(); });
  const order = ["a.skip"];
  const problems = [];
  for (let i = 1; i < steps; i++) {
    await page.keyboard.press("Tab");
    const step = await page.evaluate((index) => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      window.__focusTrail = window.__focusTrail || [];
      if (index > 0 && el === window.__focusTrail[0]) return null; // wrapped round: the end
      const previous = window.__focusTrail[index - 1];
      // A date or month input takes several Tab stops of its own (its fields).
      if (el === previous) { window.__focusTrail[index] = el; return { same: true }; }
      const follows = !previous || !!(previous.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
      window.__focusTrail[index] = el;
      const style = getComputedStyle(el);
      return {
        what: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} ${(el.textContent || el.getAttribute("aria-label") || "").trim().slice(0, 20)}`,
        follows,
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
      };
    }, i);
    if (!step) break;
    if (step.same) continue;
    order.push(step.what);
    if (!step.follows) problems.push(`Tab went backwards to ${step.what}`);
    if (!step.outline) problems.push(`no visible focus on ${step.what}`);
  }
  await page.evaluate(() => { window.__focusTrail = []; document.activeElement?.blur(); });
  return { order, problems };
}
