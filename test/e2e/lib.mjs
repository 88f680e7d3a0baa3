// Shared by the UI end-to-end scripts: a session (temp folder, the packaged .vsix installed into a fresh
// code-server, headless Chromium), step/check logging, screenshots, the command palette, and the cleanup that
// keeps the logs of a failed run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, CODE_SERVER, launchChromium, startCodeServer, xdgEnv } from '../harness/lib-codeserver.mjs';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
export const EXT_ID = `${pkg.publisher}.${pkg.name}`;
export const SEL = {
  workbench: '.monaco-workbench',
  activity: '.activitybar .action-item a.action-label[aria-label^="Delivery"]',
  container: '[id="workbench.view.extension.delivery"]',
  rows: '[id="workbench.view.extension.delivery"] .monaco-list-row[role="treeitem"]',
  status: (id) => `[id="${EXT_ID}.${id}"]`,
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  quickPickRows: '.quick-input-widget .monaco-list-row',
  toasts: '.notifications-toasts .notification-list-item-message',
  tabs: '.tabs-container .tab',
  webviewOuter: 'iframe.webview.ready',
  webviewInner: 'iframe#active-frame',
};

/** Alive and not a zombie. */
export function alive(pid) {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return false;
  }
}

/** A PID a job wrote to a file, once the file has content. */
export async function waitForPidFile(page, file, ms = 15000) {
  const read = () => { try { return fs.readFileSync(file, 'utf8').trim(); } catch { return ''; } };
  for (let i = 0; i < ms / 50 && !read(); i++) await page.waitForTimeout(50);
  return Number(read());
}

/**
 * Runs `body` in a session and exits the process with 0 (passed) or 1 (failed; the temp folder with the logs and
 * failure.png is kept). `body` gets { root, step, check, shot, open(workspace, env), page(), runCommand(title),
 * showDelivery(), webview() }.
 */
export async function e2e(name, body) {
  const vsix = path.resolve(process.argv[2] ?? path.join(ROOT, 'software-delivery.vsix'));
  const artifacts = path.join(ROOT, 'test-artifacts', 'screenshots');
  fs.mkdirSync(artifacts, { recursive: true });
  const T0 = Date.now();
  let checks = 0;
  const step = (m) => console.log(`[${name} +${((Date.now() - T0) / 1000).toFixed(1)}s] ${m}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `delivery-${name}-`));
  const cleanups = [];
  let server = null;
  let browser = null;
  let page = null;
  let failed = false;
  const s = {
    root,
    step,
    check: (m) => {
      checks++;
      step(`✔ ${m}`);
    },
    /** Runs when the session ends, passed or failed (targets the test started). */
    onCleanup: (fn) => cleanups.push(fn),
    page: () => page,
    shot: async (file) => {
      const out = path.join(artifacts, `${file}.png`);
      await page.screenshot({ path: out });
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        fs.mkdirSync(path.join(ROOT, 'docs', 'images'), { recursive: true });
        fs.copyFileSync(out, path.join(ROOT, 'docs', 'images', `${file}.png`));
      }
      step(`screenshot ${path.relative(ROOT, out)}`);
    },
    /** Installs the .vsix, starts code-server and Chromium, opens the workbench on `workspace`. */
    open: async (workspace, env = {}) => {
      if (!fs.existsSync(vsix)) throw new Error(`${vsix} not found (npm run package)`);
      const extDir = path.join(root, 'extensions');
      execFileSync(CODE_SERVER, ['--extensions-dir', extDir, '--user-data-dir', path.join(root, 'user-data'), '--install-extension', vsix], {
        stdio: 'pipe',
        env: { ...process.env, ...xdgEnv(path.join(root, 'xdg')) },
      });
      server = await startCodeServer({ baseDir: root, extensionsDir: extDir, env: { DELIVERY_STATE_DIR: path.join(root, 'state'), ...env } });
      browser = await launchChromium({ userDataDir: path.join(root, 'chromium') });
      page = browser.ctx.pages()[0] ?? (await browser.ctx.newPage());
      await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
      await page.waitForSelector(SEL.workbench, { timeout: 90000 });
      return page;
    },
    /** F1, the command by its palette title, Enter (focus first goes to the status bar, never to a webview). */
    runCommand: async (title) => {
      await page.locator('.statusbar').click({ position: { x: 600, y: 10 } });
      await page.keyboard.press('F1');
      await page.locator(SEL.quickInputBox).waitFor({ state: 'visible' });
      await page.locator(SEL.quickInputBox).fill(`>${title}`);
      await page.locator(SEL.quickPickRows).filter({ hasText: title.replace(/^[^:]*: /, '') }).first().waitFor();
      await page.keyboard.press('Enter');
    },
    /**
     * Opens the Delivery container. The activity-bar icon toggles (and right after a reload the container may be
     * about to appear on its own), so click, look, and click again if it closed.
     */
    showDelivery: async () => {
      for (let i = 0; i < 4; i++) {
        if (await page.locator(SEL.container).isVisible()) return;
        await page.locator(SEL.activity).first().click();
        try {
          await page.locator(SEL.container).waitFor({ timeout: 3000 });
          await page.waitForTimeout(300);
        } catch {
          // not open yet: look again
        }
      }
      await page.locator(SEL.container).waitFor({ timeout: 10000 });
    },
    /** The Delivery panel's content frame. */
    webview: () => page.frameLocator(SEL.webviewOuter).frameLocator(SEL.webviewInner),
    /** A tree row by its exact label. */
    row: (label) => page.locator(SEL.rows).filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) }).first(),
    /**
     * The whole text of a row whose long message continues in rows under it (opened first when it is closed): its
     * label and its children's, in order.
     */
    rowMessage: async (row) => {
      const closed = (await row.getAttribute('aria-expanded')) === 'false';
      if (closed) {
        await row.locator('.monaco-tl-twistie').click();
        await page.waitForFunction((el) => el.getAttribute('aria-expanded') === 'true', await row.elementHandle(), { timeout: 10000 });
      }
      await page.waitForTimeout(300); // the children's rows are rendered
      const text = await row.evaluate((el) => {
        const label = (r) => r.querySelector('.label-name')?.textContent?.trim() ?? '';
        const rows = [...el.parentElement.querySelectorAll(':scope > .monaco-list-row')].sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index));
        const level = Number(el.getAttribute('aria-level'));
        const parts = [label(el)];
        for (let i = rows.indexOf(el) + 1; i < rows.length && Number(rows[i].getAttribute('aria-level')) > level; i++) parts.push(label(rows[i]));
        return parts.join(' ');
      });
      if (closed) await row.locator('.monaco-tl-twistie').click(); // as it was
      return text;
    },
    /** Moves the pointer off the trees so that no row's hover card covers the next click. */
    clearHover: async () => {
      await page.mouse.move(2, 2);
      await page.locator('.context-view .monaco-hover').waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
    },
    /**
     * Hovers a tree row and clicks its inline action (by the start of its aria-label). Should the command get no
     * node (its row unregistered under the pointer), it asks which item it is for: then pick `pick`. Returns true
     * when it had to (rows-e2e counts that as a failure).
     */
    rowAction: async (label, action, pick) => {
      const row = s.row(label);
      await row.hover();
      await row.locator(`.action-label[aria-label^="${action}"]`).click();
      if (!pick) return false;
      const ask = page.locator(SEL.quickPickRows).filter({ hasText: pick }).first();
      if (await ask.waitFor({ timeout: 1500 }).then(() => true, () => false)) {
        step(`(the "${label}" row's command got no node: picked "${pick}" from the quick pick)`);
        await ask.click();
        return true;
      }
      return false;
    },
  };
  try {
    await body(s);
    step(`${checks} checks passed`);
  } catch (e) {
    failed = true;
    console.error(`[${name}] FAILED:`, e);
    if (page) {
      try {
        await page.screenshot({ path: path.join(root, 'failure.png') });
        console.error(`failure screenshot: ${path.join(root, 'failure.png')}`);
      } catch {
        /* ignore */
      }
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
    if (!failed) fs.rmSync(root, { recursive: true, force: true });
    step(`done (${failed ? `FAILED, logs in ${root}` : 'ok'})`);
    process.exit(failed ? 1 : 0);
  }
}
