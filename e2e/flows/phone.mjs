// Every screen of every role at phone width: nothing wider than the screen (no sideways
// scrolling), and a screenshot of each in docs/screenshots/phone-<role>-<screen>.png.

import { join } from 'node:path';

/** A phone in portrait (an iPhone 13's CSS pixels). */
export const PHONE = { width: 390, height: 844 };

/** The staff of the demo who between them hold every role, and a name for each. */
const PEOPLE = [
  ['S1001', 'officer'],
  ['S1002', 'tracker'],
  ['S1003', 'supervisor'],
  ['S1004', 'integrity'],
  ['S1005', 'auditor'],
  ['S1006', 'admin'],
  ['S1009', 'operator'],
];

/** The elements that reach past the right edge of the viewport, described for a failure. */
const overflowing = (page) => page.evaluate(() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1) {
      // Only the outermost culprit of each branch: its children overflow because it does.
      if (el.parentElement && el.parentElement.getBoundingClientRect().right > width + 1) continue;
      // Nor what a box within the screen clips or scrolls (a wide table in its .table-wrap).
      let clipped = false;
      for (let a = el.parentElement; a && !clipped; a = a.parentElement) {
        clipped = getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= width + 1;
      }
      if (clipped) continue;
      const id = el.id ? `#${el.id}` : '';
      const cls = el.classList.length ? `.${[...el.classList].join('.')}` : '';
      out.push(`${el.tagName.toLowerCase()}${id}${cls} reaches ${Math.round(r.right)} px`);
    }
  }
  return out.length ? out : [`the page is ${document.documentElement.scrollWidth} px wide`];
});

/**
 * One flow per person: signs in at phone width, opens every screen in the navigation and
 * checks that none is wider than the phone.
 */
export async function phoneFlows({ flow, signedIn, check, shots }) {
  for (const [staffId, role] of PEOPLE) {
    await flow(`every screen of the ${role} fits a phone (${PHONE.width} px)`, async () => {
      const page = await signedIn(staffId, PHONE);
      const screens = await page.locator('#nav a').evaluateAll(
        (links) => links.map((a) => a.getAttribute('href')),
      );
      const problems = [];
      for (const href of screens) {
        await page.goto(new URL(href, page.url()).href);
        await page.locator('#main > *').first().waitFor();
        // Screens load their lists after they are drawn.
        await page.waitForTimeout(700);
        const name = href.replace(/^#\/?/, '') || 'home';
        const wide = await overflowing(page);
        if (wide.length) problems.push(`${name}: ${wide.slice(0, 4).join('; ')}`);
        await page.screenshot({ path: join(shots, `phone-${role}-${name}.png`), fullPage: true });
      }
      await page.context().close();
      check(problems.length === 0, `wider than the phone: ${problems.join(' | ')}`);
    });
  }
}
