// Every message from the dashboard is checked; wrong shapes are dropped with one warning, never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromWebview, WEBVIEW_LIMITS } from '../../src/protocol/webviewMessages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';

const v = PROTOCOL_VERSION;
function parse(raw: unknown): { result: unknown; warnings: string[] } {
  const warnings: string[] = [];
  const result = parseFromWebview(raw, (w) => warnings.push(w));
  return { result, warnings };
}

test('well-formed messages pass unchanged and without warnings', () => {
  const good = [
    { v, type: 'ready' },
    { v, type: 'pause' },
    { v, type: 'resume' },
    { v, type: 'stop' },
    { v, type: 'sample', prime: 'The ', temperature: 0.8, length: 200 },
    { v, type: 'setTemperature', temperature: 1.2 },
    { v, type: 'setLearningRate', lr: 0.001 },
    { v, type: 'probeGates', text: 'hello' },
  ];
  for (const g of good) {
    const { result, warnings } = parse(g);
    assert.deepEqual(result, g, `expected ${JSON.stringify(g)} accepted, got ${JSON.stringify(result)}`);
    assert.deepEqual(warnings, []);
  }
});

test('extra fields are stripped from accepted messages', () => {
  const { result } = parse({ v, type: 'pause', evil: 'x' });
  assert.deepEqual(result, { v, type: 'pause' });
});

test('wrong shapes are dropped with exactly one warning naming the problem, never thrown', () => {
  const bad: Array<[unknown, RegExp]> = [
    [null, /expected an object, got null/],
    [undefined, /expected an object/],
    ['pause', /expected an object/],
    [[1, 2], /got an array/],
    [{ type: 'pause' }, new RegExp(`protocol version must be ${PROTOCOL_VERSION}`)],
    [{ v: 99, type: 'pause' }, new RegExp(`protocol version must be ${PROTOCOL_VERSION}, got 99`)],
    [{ v, type: 'rm -rf' }, /unknown message type/],
    [{ v }, /unknown message type undefined/],
    [{ v, type: 'sample', prime: 'a', temperature: 0, length: 10 }, /temperature must be a number from 0.01 to 10, got 0/],
    [{ v, type: 'sample', prime: 'a', temperature: NaN, length: 10 }, /temperature/],
    [{ v, type: 'sample', prime: 'a', temperature: 1, length: 1.5 }, /length must be a whole number/],
    [{ v, type: 'sample', prime: 7, temperature: 1, length: 10 }, /prime must be a string, got 7/],
    [{ v, type: 'sample', prime: 'x'.repeat(WEBVIEW_LIMITS.maxTextLength + 1), temperature: 1, length: 10 }, /at most 10000 characters/],
    [{ v, type: 'setTemperature', temperature: '1' }, /temperature must be a number/],
    [{ v, type: 'setLearningRate', lr: -1 }, /lr must be a number/],
    [{ v, type: 'setLearningRate', lr: Infinity }, /lr must be a number/],
    [{ v, type: 'probeGates', text: '' }, /text must not be empty/],
    [{ v, type: 'probeGates' }, /text must be a string, got undefined/],
  ];
  for (const [raw, why] of bad) {
    let out: ReturnType<typeof parse> | undefined;
    assert.doesNotThrow(
      () => {
        out = parse(raw);
      },
      `parsing ${JSON.stringify(raw)} threw`,
    );
    assert.equal(out!.result, undefined, `expected ${JSON.stringify(raw)} dropped, got ${JSON.stringify(out!.result)}`);
    assert.equal(out!.warnings.length, 1, `expected one warning for ${JSON.stringify(raw)}, got ${JSON.stringify(out!.warnings)}`);
    assert.match(out!.warnings[0]!, why);
  }
});

test('a sample request with several bad fields names them all in its one warning', () => {
  const { warnings } = parse({ v, type: 'sample', prime: 1, temperature: 99, length: 0 });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /prime.*temperature.*length/);
});

test('hostile objects (getters that throw, prototype tricks) do not escape', () => {
  const hostile = Object.create(null) as Record<string, unknown>;
  hostile['v'] = v;
  hostile['type'] = '__proto__';
  assert.equal(parse(hostile).result, undefined);
  const { result } = parse(JSON.parse(`{"v":${v},"type":"pause","__proto__":{"x":1}}`));
  assert.deepEqual(result, { v, type: 'pause' });
});
