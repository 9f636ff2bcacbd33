// esbuild bundles imported stylesheets into dist/webview.css; for the type checker they are opaque.
declare module '*.css';
