// Show Model Info: a Markdown table of the run's configuration, its parameters per tensor (PyTorch
// names), its text and the loss a model that learned nothing would score.
import * as vscode from 'vscode';
import { describeSegments } from '../../engine/history.js';
import type { Studio } from '../studio.js';

export async function showModelInfo(studio: Studio, runId?: string): Promise<vscode.TextDocument> {
  const s = studio.target(runId, (x) => x.description !== null, 'has started');
  const r = s.description!;
  const m = s.latest;
  const c = r.model;
  const lines = [
    `# ${s.label}`,
    '',
    `| | |`,
    `| --- | --- |`,
    `| run | ${s.runId} (${s.status}) |`,
    `| cell | ${c.cell}, ${c.layers} layer(s) of ${c.hidden} units${c.bidirectional ? ', bidirectional' : ''} |`,
    `| input | ${c.embedding ? `embedding of ${c.embedding}` : 'one-hot'} over ${r.vocabSize} ${r.tokenizer} tokens |`,
    `| parameters | ${r.parameterCount.toLocaleString('en-US')} |`,
    `| training | batch ${r.train.batch}, k1 ${r.train.k1}, k2 ${r.train.k2}, ${r.train.optimizer} lr ${r.train.lr}, clip ${r.train.clipNorm || r.train.clipValue || 'off'}, seed ${r.train.seed} |`,
    `| text | ${r.trainTokens.toLocaleString('en-US')} training and ${r.validationTokens.toLocaleString('en-US')} validation tokens |`,
    `| learned nothing | ${r.unigramBits.toFixed(3)} bits/token (unigram entropy) |`,
    ...(m ? [`| now | update ${m.step}, ${m.bitsPerToken.toFixed(3)} bits/token, ${Math.round(m.tokensPerSecond)} tokens/s |`] : []),
    ...(describeSegments(r.segments ?? []) !== null ? [`| trained | ${describeSegments(r.segments ?? [])} |`] : []),
    ...(s.lastCheckpoint ? [`| checkpoint | update ${s.lastCheckpoint.step}: ${s.lastCheckpoint.path} |`] : []),
    '',
    '## Tensors (PyTorch names)',
    '',
    '| name | shape | parameters |',
    '| --- | --- | ---: |',
    ...r.tensors.map((t) => `| \`${t.name}\` | [${t.shape.join(', ')}] | ${t.shape.reduce((a, b) => a * b, 1).toLocaleString('en-US')} |`),
    '',
  ];
  const doc = await vscode.workspace.openTextDocument({ content: lines.join('\n'), language: 'markdown' });
  await vscode.window.showTextDocument(doc, { preview: true });
  return doc;
}
