// The loss-heat scale: how a token's loss in bits becomes one of a few tints. Fixed thresholds in bits,
// not a scale relative to the file, so a colour means the same surprise in every file and at every
// step of training: a token below 2 bits (the model gave it at least 1/4) stays plain; each further
// 2 bits (a factor of 4 less probability) is one level hotter. The colours are contributed theme
// colours (package.json `contributes.colors`, kept equal to COLOR_CONTRIBUTIONS by a unit test), so
// themes and high-contrast modes can restyle them.

export const LN2 = Math.LN2;

/** Lower edge of each heat level in bits per token; level 0 (plain) is below the first. */
export const HEAT_LEVEL_BITS = [2, 4, 6, 8] as const;
export const HEAT_LEVELS = HEAT_LEVEL_BITS.length;

/** 0 (plain) .. HEAT_LEVELS (hottest); a non-finite loss is the hottest. */
export function heatLevel(bits: number): number {
  if (!Number.isFinite(bits)) return Number.isNaN(bits) || bits > 0 ? HEAT_LEVELS : 0;
  let level = 0;
  while (level < HEAT_LEVELS && bits >= HEAT_LEVEL_BITS[level]!) level++;
  return level;
}

export function natsToBits(nats: number): number {
  return nats / LN2;
}

/**
 * Groups tokens by heat level: spans[level - 1] lists [start, end) UTF-16 offsets (relative to the
 * probed text) of the tokens at that level. Token 0 has no prediction (nothing precedes it), and tokens
 * before `firstShown` were context for the probe, not meant to be shown. Tokens the model never saw, and
 * the token after each (read from a fresh state), have no prediction either (EditorProbe.unknown).
 * offsets [N+1] (token starts, then the text's length); lossNats [N-1] (lossNats[i-1] is token i's).
 * Tokens from `end` on are left out (a window of a whole file's heat).
 */
export function bucketByHeat(
  offsets: Int32Array,
  lossNats: Float32Array,
  firstShown = 1,
  unknown: readonly number[] = [],
  end = lossNats.length + 1,
): Array<Array<[number, number]>> {
  const spans: Array<Array<[number, number]>> = Array.from({ length: HEAT_LEVELS }, () => []);
  const unpredicted = new Set(unknown.flatMap((u) => [u, u + 1]));
  for (let i = Math.max(1, firstShown); i <= lossNats.length && i < end; i++) {
    if (unpredicted.has(i)) continue;
    const level = heatLevel(natsToBits(lossNats[i - 1]!));
    if (level > 0) spans[level - 1]!.push([offsets[i]!, offsets[i + 1]!]);
  }
  return spans;
}

/** The theme colours of the heat: a background tint and an underline per level. */
export interface ColorContribution {
  id: string;
  description: string;
  defaults: { dark: string; light: string; highContrast: string; highContrastLight: string };
}

// Warm tints that deepen with surprise; transparent enough that selection and find highlights show.
const TINTS = [
  { dark: '#e5c07b', light: '#c18401' },
  { dark: '#e0964f', light: '#d46a00' },
  { dark: '#e06c50', light: '#d13d1f' },
  { dark: '#ff4f6d', light: '#c5002b' },
];

export const COLOR_CONTRIBUTIONS: ColorContribution[] = TINTS.flatMap((t, i) => {
  const level = i + 1;
  const alpha = ['1f', '33', '47', '5c'][i]!;
  const range = level < HEAT_LEVELS ? `${HEAT_LEVEL_BITS[i]} to ${HEAT_LEVEL_BITS[i + 1]} bits` : `${HEAT_LEVEL_BITS[i]} bits or more`;
  return [
    {
      id: `recurrent.lossHeat${level}Background`,
      description: `Background of tokens the model predicts with a loss of ${range} (loss heat level ${level}).`,
      defaults: { dark: t.dark + alpha, light: t.light + alpha, highContrast: '#00000000', highContrastLight: '#00000000' },
    },
    {
      id: `recurrent.lossHeat${level}Underline`,
      description: `Underline of tokens the model predicts with a loss of ${range} (loss heat level ${level}).`,
      defaults: { dark: t.dark, light: t.light, highContrast: t.dark, highContrastLight: t.light },
    },
  ];
});

/** `contributes.colors` of package.json. */
export function colorsContribution(): Array<{ id: string; description: string; defaults: ColorContribution['defaults'] }> {
  return COLOR_CONTRIBUTIONS.map((c) => ({ id: c.id, description: c.description, defaults: { ...c.defaults } }));
}
