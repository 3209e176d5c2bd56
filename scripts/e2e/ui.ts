// Shared steps of the Playwright UI tests (test/e2e/*.ui.test.ts): polling for what the
// workbench shows, tree rows, expanding them, and choosing a context-menu item in a way
// that survives the workbench's menu timing.
import type { FrameLocator, Locator, Page } from 'playwright-core';

/**
 * Polls `fn` until it returns a value. An error whose message starts with `NOW ` (a failure
 * the page already shows) ends the wait at once; other errors are retried and the last one
 * is named in the timeout.
 */
export async function until<T>(
  what: string,
  ms: number,
  fn: () => Promise<T | undefined>,
  everyMs = 300,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
      if (last.startsWith('NOW ')) throw new Error(last.slice(4));
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (${last})` : ''}`);
}

/** The first tree row of `view` whose text matches. */
export function row(view: Locator, text: string | RegExp): Locator {
  return view.locator('.monaco-list-row').filter({ hasText: text }).first();
}

/** Expands a tree row (clicks its twistie only when it is collapsed). */
export async function expand(r: Locator): Promise<void> {
  await r.waitFor({ state: 'visible' });
  if ((await r.getAttribute('aria-expanded')) === 'false') await r.click();
  await until('the row to expand', 10_000, async () =>
    (await r.getAttribute('aria-expanded')) === 'true' ? true : undefined,
  );
}

const MENU_ITEM = '.context-view .action-menu-item, .monaco-menu .action-label';

/**
 * Right-clicks `target` and chooses the menu item `label`. The workbench sometimes drops a
 * click that lands just after its context menu opened (the menu stays open with the item
 * highlighted, and nothing runs); so the menu must close after the click, and when it does
 * not, the highlighted item is chosen with the keyboard, and the whole step is tried again
 * up to three times.
 */
export async function chooseFromContextMenu(
  page: Page,
  target: Locator,
  label: RegExp,
): Promise<void> {
  const item = page.locator(MENU_ITEM, { hasText: label }).first();
  // The menu is open while its item is shown.
  const menu = item;
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (!(await menu.isVisible())) await target.click({ button: 'right' });
    await item.waitFor({ state: 'visible' });
    await item.click().catch((err: unknown) => {
      last = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    });
    if (await closes(menu, 1_500)) return;
    // Still open: the item under the pointer is highlighted; choose it with the keyboard.
    console.log(
      `# context menu: the click on ${label} was dropped (try ${attempt}); pressing Enter`,
    );
    await item.hover().catch(() => undefined);
    await page.keyboard.press('Enter');
    if (await closes(menu, 1_500)) return;
    await page.keyboard.press('Escape');
    await closes(menu, 1_500);
  }
  throw new Error(`the context menu item ${label} could not be chosen${last ? ` (${last})` : ''}`);
}

async function closes(menu: Locator, ms: number): Promise<boolean> {
  return menu
    .waitFor({ state: 'hidden', timeout: ms })
    .then(() => true)
    .catch(() => false);
}

/**
 * Expands the sidebar view `name` (e.g. "Clusters") and collapses each view in `collapse`
 * (room for a deep tree); returns the view's pane. The view container must be shown.
 */
export async function showView(
  p: Page,
  name: string,
  collapse: readonly string[] = [],
): Promise<Locator> {
  const sidebar = p.locator('.part.sidebar');
  const titled = (n: string): RegExp => new RegExp(`^${n}`, 'i');
  const header = sidebar.locator('.pane-header', { hasText: titled(name) }).first();
  await header.waitFor({ state: 'visible' });
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  for (const other of collapse) {
    const h = sidebar.locator('.pane-header', { hasText: titled(other) }).first();
    if ((await h.getAttribute('aria-expanded')) === 'true') await h.click();
  }
  // `has` is relative to the pane: a locator rooted at the page, not at the sidebar.
  return sidebar.locator('.pane', { has: p.locator('.pane-header', { hasText: titled(name) }) });
}

/** The visible Podpath panel's document: the webview's outer iframe, then its active frame. */
export function panelFrame(p: Page): FrameLocator {
  return p
    .locator('iframe.webview.ready')
    .filter({ visible: true })
    .last()
    .contentFrame()
    .frameLocator('#active-frame');
}

const QUICK_INPUT = '.quick-input-widget input.input';

/**
 * Opens the quick input with F1 and types `text` into it (replacing the palette's `>`, so
 * plain text searches files). The quick input closes when something takes the focus from it
 * (a webview iframe, a tree refreshing under the pointer), so it must still be open with the
 * text after typing; otherwise the focus is moved back to the workbench (an empty spot of the
 * status bar) and it is tried again, up to four times.
 */
export async function quickInput(p: Page, text: string): Promise<Locator> {
  const input = p.locator(QUICK_INPUT);
  let last = '';
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      await p.keyboard.press('Escape');
      await p.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(text, { timeout: 5_000 });
      await new Promise((r) => setTimeout(r, 150));
      if ((await input.isVisible()) && (await input.inputValue()) === text) return input;
      last = 'the quick input closed after typing';
    } catch (err) {
      last = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    }
    const bar = p.locator('.part.statusbar');
    const box = await bar.boundingBox();
    if (box) await bar.click({ position: { x: box.width / 2, y: box.height / 2 } });
  }
  throw new Error(`the quick input did not stay open for "${text}" (${last})`);
}

/** Opens a workspace file through Quick Open, as a person would. */
export async function openFile(p: Page, relativePath: string): Promise<void> {
  const name = relativePath.split('/').pop() ?? relativePath;
  const row = p.locator('.quick-input-widget .monaco-list-row').filter({ hasText: name }).first();
  await until(`${relativePath} in Quick Open`, 60_000, async () => {
    await quickInput(p, relativePath);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    return true;
  });
  await p.keyboard.press('Enter');
  await p
    .locator('.tabs-container .tab.active', { hasText: name })
    .first()
    .waitFor({ state: 'visible', timeout: 15_000 });
}
