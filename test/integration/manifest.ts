// What the extension's manifest (package.json) promises, read from disk the way VS Code reads it, so the
// suites check the running extension against the file a user installs rather than against a copy.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

interface Manifest {
  publisher: string;
  name: string;
  contributes?: {
    commands?: ContributedCommand[];
    menus?: { commandPalette?: { command: string; when?: string }[] };
  };
}

export function readManifest(extensionPath: string): Manifest {
  return JSON.parse(readFileSync(join(extensionPath, 'package.json'), 'utf8')) as Manifest;
}

export const extensionId = (m: Manifest): string => `${m.publisher}.${m.name}`;

/** Commands under `recurrent.*`, the product's namespace. */
export function recurrentCommands(m: Manifest): ContributedCommand[] {
  return (m.contributes?.commands ?? []).filter((c) => c.command.startsWith('recurrent.'));
}

/**
 * Commands a user can find in the palette: a `commandPalette` menu entry with a `when` clause may hide
 * one (its condition depends on state this check cannot evaluate), so those are left out.
 */
export function paletteCommands(m: Manifest): ContributedCommand[] {
  const conditional = new Set((m.contributes?.menus?.commandPalette ?? []).filter((e) => e.when !== undefined).map((e) => e.command));
  return recurrentCommands(m).filter((c) => !conditional.has(c.command));
}

/** The label the palette shows: "Category: Title". */
export const paletteLabel = (c: ContributedCommand): string => (c.category ? `${c.category}: ${c.title}` : c.title);
