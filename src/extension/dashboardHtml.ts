// The dashboard page the panel serves: a strict content security policy (nothing but the bundled
// script, carrying a fresh nonce, and the extension's own stylesheet; no inline script or style, no
// remote anything), and the two bundled files. Pure, so the browser test serves the very same page.

export interface DashboardPageParts {
  /** URIs as the webview must load them (vscode-webview://... from asWebviewUri, or a test server's). */
  scriptUri: string;
  styleUri: string;
  /** The webview's `cspSource`: the origin its local resources are served from. */
  cspSource: string;
  /** Fresh per page: only <script nonce=...> with this value runs. */
  nonce: string;
  /** Extra script run before the dashboard (tests use it to stand in for acquireVsCodeApi); gets the nonce. */
  preludeScript?: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function dashboardHtml(p: DashboardPageParts): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(p.nonce)) throw new Error('dashboard nonce must be at least 16 base64 characters');
  const nonce = escapeAttr(p.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(p.cspSource, p.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(p.styleUri)}">
<title>Recurrent Studio dashboard</title>
</head>
<body>
<main id="app" aria-label="Training dashboard"><p>Loading the dashboard…</p></main>
${p.preludeScript !== undefined ? `<script nonce="${nonce}">${p.preludeScript}</script>\n` : ''}<script nonce="${nonce}" src="${escapeAttr(p.scriptUri)}"></script>
</body>
</html>`;
}
