// A heatmap on a canvas: rows by columns of values, one cell per value, drawn at device-pixel
// resolution (crisp on high-DPI screens: cells are painted into an image of rows x cols pixels and
// scaled up without smoothing). Column labels are the probe text's characters; hovering a cell, or
// moving a cursor with the arrow keys once the heatmap has focus, shows that cell's value.
import { paint, type Rgb, type ValueRange } from './model/colormap.js';
import { h } from './dom.js';
import type { Theme } from './theme.js';

export interface HeatmapData {
  /** [rows, cols] row-major. */
  values: ArrayLike<number>;
  rows: number;
  cols: number;
  range: ValueRange;
  colLabels: string[];
  rowTitle: string;
  /** The label drawn beside row `r` (every few rows when they are thin). */
  rowLabel: (r: number) => string;
  /** One line describing cell (row, col), for the hover readout. */
  describe: (row: number, col: number, value: number) => string;
}

const GUTTER_LEFT = 34;
const GUTTER_BOTTOM = 16;

export class Heatmap {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly readout: HTMLElement;
  private data: HeatmapData | null = null;
  private theme: Theme | null = null;
  private cursor: [number, number] = [0, 0];
  private geometry = { cellW: 1, cellH: 1, width: 0, height: 0 };

  constructor(
    name: string,
    private readonly maxHeight = 220,
    private readonly maxCell = 8,
  ) {
    this.canvas = h('canvas', { class: 'heatmap', tabindex: 0, role: 'img', 'aria-label': name });
    this.readout = h('div', { class: 'readout', 'aria-live': 'polite' }, '\u00a0');
    this.element = h('div', { class: 'heatmap-box' }, this.canvas, this.readout);
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => {
      this.readout.textContent = '\u00a0';
    });
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('focus', () => this.showCursor());
  }

  setLabel(name: string): void {
    this.canvas.setAttribute('aria-label', name);
  }

  set(data: HeatmapData | null, theme: Theme): void {
    this.data = data;
    this.theme = theme;
    this.draw();
  }

  draw(): void {
    const d = this.data;
    const theme = this.theme;
    const ctx = this.canvas.getContext('2d');
    if (ctx === null || theme === null) return;
    const cssWidth = Math.max(120, this.element.clientWidth || 600);
    if (d === null || d.rows === 0 || d.cols === 0) {
      this.canvas.style.width = `${cssWidth}px`;
      this.canvas.style.height = '24px';
      return;
    }
    const cellW = Math.max(1, (cssWidth - GUTTER_LEFT) / d.cols);
    const cellH = Math.max(1, Math.min(this.maxCell, Math.floor(this.maxHeight / d.rows)));
    const cssHeight = cellH * d.rows + GUTTER_BOTTOM;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(cssWidth * dpr);
    this.canvas.height = Math.round(cssHeight * dpr);
    this.canvas.style.width = `${cssWidth}px`;
    this.canvas.style.height = `${cssHeight}px`;
    this.geometry = { cellW, cellH, width: cssWidth, height: cssHeight };
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);

    const image = new ImageData(d.cols, d.rows);
    const missing: Rgb = theme.highContrast ? [255, 0, 255] : [128, 128, 128];
    paint(d.values, d.range, theme.background, missing, image.data);
    const cells = document.createElement('canvas');
    cells.width = d.cols;
    cells.height = d.rows;
    cells.getContext('2d')!.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(cells, GUTTER_LEFT, 0, cellW * d.cols, cellH * d.rows);

    ctx.fillStyle = theme.muted;
    ctx.font = '10px var(--vscode-editor-font-family, monospace)';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    const rowStep = Math.max(1, Math.ceil(12 / cellH));
    for (let r = 0; r < d.rows; r += rowStep) ctx.fillText(d.rowLabel(r), GUTTER_LEFT - 4, r * cellH + cellH / 2);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const colStep = Math.max(1, Math.ceil(8 / cellW));
    for (let c = 0; c < d.cols; c += colStep) ctx.fillText(d.colLabels[c] ?? '', GUTTER_LEFT + c * cellW + cellW / 2, d.rows * cellH + 3);
    if (document.activeElement === this.canvas) this.outline(ctx);
  }

  private outline(ctx: CanvasRenderingContext2D): void {
    const [r, c] = this.cursor;
    const { cellW, cellH } = this.geometry;
    ctx.strokeStyle = this.theme?.foreground ?? '#fff';
    ctx.lineWidth = 1;
    ctx.strokeRect(GUTTER_LEFT + c * cellW + 0.5, r * cellH + 0.5, Math.max(cellW - 1, 1), Math.max(cellH - 1, 1));
  }

  private cellAt(e: MouseEvent): [number, number] | null {
    const d = this.data;
    if (d === null) return null;
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left - GUTTER_LEFT;
    const y = e.clientY - rect.top;
    const c = Math.floor(x / this.geometry.cellW);
    const r = Math.floor(y / this.geometry.cellH);
    return r >= 0 && r < d.rows && c >= 0 && c < d.cols ? [r, c] : null;
  }

  private hover(e: MouseEvent): void {
    const cell = this.cellAt(e);
    if (cell === null || this.data === null) {
      this.readout.textContent = '\u00a0';
      return;
    }
    this.readout.textContent = this.data.describe(cell[0], cell[1], this.data.values[cell[0] * this.data.cols + cell[1]]!);
  }

  private key(e: KeyboardEvent): void {
    const d = this.data;
    if (d === null) return;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      PageUp: [-8, 0],
      PageDown: [8, 0],
    };
    const mv = moves[e.key];
    if (mv === undefined) return;
    e.preventDefault();
    this.cursor = [Math.min(d.rows - 1, Math.max(0, this.cursor[0] + mv[0])), Math.min(d.cols - 1, Math.max(0, this.cursor[1] + mv[1]))];
    this.showCursor();
  }

  private showCursor(): void {
    const d = this.data;
    if (d === null) return;
    const [r, c] = this.cursor;
    this.readout.textContent = d.describe(r, c, d.values[r * d.cols + c]!);
    this.draw();
  }
}

/** A colour key: a strip of the map from its low to its high end with the values at both ends. */
export function colourKey(range: ValueRange, theme: Theme, lo: string, hi: string): HTMLElement {
  const steps = 64;
  const values = new Float32Array(steps);
  for (let i = 0; i < steps; i++) {
    const t = i / (steps - 1);
    values[i] =
      range.kind === 'unit' ? t : range.kind === 'signed' ? (2 * t - 1) * range.limit : range.lo * Math.pow(range.hi / range.lo, t);
  }
  const c = h('canvas', { class: 'colour-key', width: steps, height: 1, 'aria-hidden': 'true' });
  const image = new ImageData(steps, 1);
  paint(values, range, theme.background, [128, 128, 128], image.data);
  c.getContext('2d')?.putImageData(image, 0, 0);
  return h('span', { class: 'key' }, h('span', {}, lo), c, h('span', {}, hi));
}
