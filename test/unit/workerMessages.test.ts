import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROTOCOL_VERSION, type WorkerEvent } from '../../src/protocol/messages.js';
import { RequestTable } from '../../src/protocol/requests.js';
import { checkWorkerCommand, checkWorkerEvent } from '../../src/protocol/workerMessages.js';

const v = PROTOCOL_VERSION;

test('a well-formed worker event passes the check unchanged', () => {
  const e = { v, type: 'checkpointSaved', path: '/ckpt/a.safetensors', step: 12 };
  const got = checkWorkerEvent(e);
  assert.ok(got.ok, `expected ok, got ${JSON.stringify(got)}`);
  assert.equal(got.message, e);
});

test('events from another protocol version are refused with advice to rebuild', () => {
  const got = checkWorkerEvent({ v: 99, type: 'state', state: 'running' });
  assert.equal(got.ok, false);
  assert.match(!got.ok ? got.problem : '', new RegExp(`version 99, expected ${v}.*rebuild`));
});

test('events with an unknown type, a missing field, a wrong type or an unknown enum value are refused', () => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    [[1], /not an object/],
    [{ v, type: 'explode' }, /unknown type "explode"/],
    [{ v, type: 'sampleChunk', text: 'ab', done: false }, /inReplyTo should be a number, got nothing/],
    [{ v, type: 'checkpointSaved', path: 3, step: 1 }, /path should be a string, got number/],
    [{ v, type: 'finished', step: NaN, reason: 'steps' }, /step should be a number/],
    [{ v, type: 'state', state: 'sleeping' }, /state should be one of running, paused, stopped, finished, got "sleeping"/],
    [{ v, type: 'error', message: 'x', kind: 'oops' }, /kind should be one of/],
  ];
  for (const [raw, want] of cases) {
    const got = checkWorkerEvent(raw);
    assert.equal(got.ok, false, `expected ${JSON.stringify(raw)} to be refused`);
    assert.match(!got.ok ? got.problem : '', want);
  }
});

test('worker commands are checked the same way, including the optional fields of start', () => {
  const start = {
    v,
    type: 'start',
    text: 'ab',
    model: {},
    train: {},
    tokenizer: 'char',
    maxSteps: 0,
    maxMs: 0,
    autosaveEveryMs: 0,
    sampleEveryMs: 0,
    sampleLength: 10,
    temperature: 1,
  };
  assert.ok(checkWorkerCommand(start).ok);
  assert.ok(checkWorkerCommand({ ...start, paused: true, resumeFrom: '/x' }).ok);
  const bad = checkWorkerCommand({ ...start, paused: 'yes' });
  assert.match(!bad.ok ? bad.problem : 'accepted', /paused should be a boolean, got string/);
  const crash = checkWorkerCommand({ v, type: 'crash', how: 'melt' });
  assert.match(!crash.ok ? crash.problem : 'accepted', /how should be one of throw, exit, oom/);
});

test('requests are checked against the arguments their method declares, replies against its result', () => {
  assert.ok(checkWorkerCommand({ v, type: 'request', id: 1, method: 'probeEditor', args: ['abc', 5, true] }).ok);
  assert.ok(checkWorkerEvent({ v, type: 'reply', inReplyTo: 1, method: 'save', result: { path: '/a', step: 3 } }).ok);
  assert.ok(checkWorkerEvent({ v, type: 'reply', inReplyTo: 1, method: 'probeGates' }).ok);
  const commands: Array<[unknown, RegExp]> = [
    [
      { v, type: 'request', id: 1, method: 'explode', args: [] },
      /method should be one of sample, save, probeGates, probeEditor, locateTokens, predictLines, probeHeat, got "explode"/,
    ],
    [{ v, type: 'request', id: 1, method: 'save', args: '/a' }, /args should be a array, got string/],
    [{ v, type: 'request', id: 1, method: 'probeEditor', args: ['abc'] }, /probeEditor: expected 3 argument\(s\), got 1/],
    [
      { v, type: 'request', id: 1, method: 'probeEditor', args: ['abc', '5', true] },
      /probeEditor: argument 2 should be a number, got string/,
    ],
    [{ v, type: 'request', id: 1, method: 'locateTokens', args: [{ 0: 1 }] }, /locateTokens: argument 1 should be a array, got object/],
  ];
  for (const [raw, want] of commands) {
    const got = checkWorkerCommand(raw);
    assert.match(!got.ok ? got.problem : `accepted ${JSON.stringify(raw)}`, want);
  }
  const replies: Array<[unknown, RegExp]> = [
    [{ v, type: 'reply', inReplyTo: 1, method: 'save', result: { path: '/a' } }, /save result: step should be a number, got nothing/],
    [{ v, type: 'reply', inReplyTo: 1, method: 'sample', result: 3 }, /sample: result should be a string, got number/],
    [{ v, type: 'reply', inReplyTo: 1, method: 'probeGates', result: {} }, /probeGates: result should be nothing, got object/],
    [{ v, type: 'reply', method: 'sample', result: 'a' }, /inReplyTo should be a number, got nothing/],
  ];
  for (const [raw, want] of replies) {
    const got = checkWorkerEvent(raw);
    assert.match(!got.ok ? got.problem : `accepted ${JSON.stringify(raw)}`, want);
  }
});

test('a reply settles the request it names with its result; chunks before it go to the caller', async () => {
  const table = new RequestTable();
  const chunks: string[] = [];
  const a = table.open('sample', (text) => chunks.push(text));
  const b = table.open('save');
  assert.notEqual(a.id, b.id);
  assert.equal(table.settle({ v, type: 'sampleChunk', inReplyTo: a.id, text: 'he', done: false }), true);
  assert.equal(table.settle({ v, type: 'sampleChunk', inReplyTo: a.id, text: 'llo', done: true }), true);
  assert.equal(table.settle({ v, type: 'sample', inReplyTo: a.id, step: 1, temperature: 1, prime: '', text: 'hello' }), false);
  assert.equal(table.settle({ v, type: 'reply', inReplyTo: a.id, method: 'sample', result: 'hello' }), true);
  assert.equal(await a.reply, 'hello');
  assert.deepEqual(chunks, ['he', 'llo']);
  assert.equal(table.size, 1, 'expected only the save request left open');
  assert.equal(table.settle({ v, type: 'reply', inReplyTo: 999, method: 'sample', result: '' }), false);
  assert.equal(table.settle({ v, type: 'state', state: 'running' } as WorkerEvent), false);
  table.settle({ v, type: 'reply', inReplyTo: b.id, method: 'sample', result: 'x' });
  await assert.rejects(b.reply, /answered a save request with a sample reply/);
});

test('an error reply rejects its request, and failAll rejects the rest', async () => {
  const table = new RequestTable();
  const a = table.open('probeGates');
  const b = table.open('probeGates');
  table.settle({ v, type: 'error', kind: 'input', message: 'probe text is empty', inReplyTo: a.id });
  await assert.rejects(a.reply, /probe text is empty/);
  table.failAll('the worker crashed');
  await assert.rejects(b.reply, /the worker crashed/);
  assert.equal(table.size, 0);
});
