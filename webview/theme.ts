// Colours come from VS Code's theme (the --vscode-* variables it sets on the webview), so charts and
// heatmaps follow light, dark and high-contrast themes and change when the user switches theme.
import { parseCssColour, type Rgb } from './model/colormap.js';

export interface Theme {
  foreground: string;
  muted: string;
  grid: string;
  background: Rgb;
  /** Series colours, distinct in every theme. */
  palette: string[];
  error: string;
  warning: string;
  highContrast: boolean;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}

export function readTheme(): Theme {
  const s = getComputedStyle(document.body);
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  const fg = cssVar(s, '--vscode-foreground', dark ? '#cccccc' : '#333333');
  const bg = cssVar(s, '--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff');
  return {
    foreground: fg,
    muted: cssVar(s, '--vscode-descriptionForeground', fg),
    grid: cssVar(s, '--vscode-editorWidget-border', dark ? 'rgba(255,255,255,0.15)' : 'rgba(0,0,0,0.12)'),
    background: parseCssColour(bg) ?? (dark ? [30, 30, 30] : [255, 255, 255]),
    palette: [
      cssVar(s, '--vscode-charts-blue', '#3794ff'),
      cssVar(s, '--vscode-charts-orange', '#d18616'),
      cssVar(s, '--vscode-charts-green', '#89d185'),
      cssVar(s, '--vscode-charts-purple', '#b180d7'),
      cssVar(s, '--vscode-charts-yellow', '#cca700'),
      cssVar(s, '--vscode-charts-red', '#f14c4c'),
    ],
    error: cssVar(s, '--vscode-errorForeground', '#f14c4c'),
    warning: cssVar(s, '--vscode-editorWarning-foreground', '#cca700'),
    highContrast:
      document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light'),
  };
}

/** Calls `onChange` when VS Code switches theme (it swaps the body's class and variables). */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
}

/** A CSS colour with an alpha, for faint raw curves beneath smoothed ones. */
export function withAlpha(colour: string, alpha: number): string {
  const rgb = parseCssColour(colour);
  return rgb === null ? colour : `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${alpha})`;
}
