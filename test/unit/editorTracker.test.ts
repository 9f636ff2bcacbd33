import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffAsEdit, EditTracker, TextLink, tokenAt } from '../../src/extension/editor/editTracker.js';

test('a span after an edit moves by what the edit added or removed', () => {
  const t = new EditTracker(100);
  t.apply({ offset: 10, removed: 0, inserted: 5 }); // typed 5 characters at 10
  assert.deepEqual(t.map(20, 25), [25, 30], 'expected [20, 25) typed-after to move by +5');
  t.apply({ offset: 0, removed: 3, inserted: 0 }); // deleted the first 3
  assert.deepEqual(t.map(20, 25), [22, 27], 'expected +5 - 3');
  assert.deepEqual(t.map(50, 51), [52, 53]);
});

test('a span before an edit stays where it was', () => {
  const t = new EditTracker(100);
  t.apply({ offset: 40, removed: 10, inserted: 2 });
  assert.deepEqual(t.map(0, 40), [0, 40]);
});

test('a span an edit touched is dropped, not stretched', () => {
  const t = new EditTracker(100);
  t.apply({ offset: 22, removed: 0, inserted: 1 }); // inside [20, 25)
  assert.equal(t.map(20, 25), null, 'expected a token typed into to be dropped');
  const u = new EditTracker(100);
  u.apply({ offset: 24, removed: 2, inserted: 0 }); // deletes its last character and the next
  assert.equal(u.map(20, 25), null);
  assert.deepEqual(u.map(26, 30), [24, 28], 'expected the token after the deletion to survive, shifted');
});

test('typing right at a token boundary keeps both neighbours', () => {
  const t = new EditTracker(10);
  t.apply({ offset: 5, removed: 0, inserted: 3 });
  assert.deepEqual(t.map(4, 5), [4, 5]);
  assert.deepEqual(t.map(5, 6), [8, 9]);
  assert.equal(t.unmap(6), null, 'expected an offset in the typed text to map back to nothing');
  assert.equal(t.unmap(8), 5);
});

test('several edits of one change event apply in order, as VS Code reports them', () => {
  // two cursors: VS Code sends the later change first
  const t = new EditTracker(30);
  t.apply({ offset: 20, removed: 0, inserted: 2 });
  t.apply({ offset: 10, removed: 0, inserted: 2 });
  assert.deepEqual(t.map(12, 15), [14, 17]);
  assert.deepEqual(t.map(25, 28), [29, 32]);
  assert.equal(t.editCount, 2);
});

test('offsets survive thousands of edits and map back exactly', () => {
  const t = new EditTracker(10000);
  let shift = 0;
  for (let i = 0; i < 2000; i++) {
    t.apply({ offset: 9999 + shift, removed: 0, inserted: 1 }); // append before the last character
    shift++;
  }
  assert.deepEqual(t.map(100, 200), [100, 200]);
  assert.deepEqual(t.map(9999, 10000), [9999 + 2000, 10000 + 2000]);
  assert.equal(t.mapOffset(10000), 12000, 'expected the end of the text to follow the appends');
});

test('diffAsEdit finds the one replacement between two texts', () => {
  assert.deepEqual(diffAsEdit('the cat sat', 'the dog sat'), { offset: 4, removed: 3, inserted: 3 });
  assert.deepEqual(diffAsEdit('abc', 'abXc'), { offset: 2, removed: 0, inserted: 1 });
  assert.equal(diffAsEdit('same', 'same'), null);
});

test('a run on a selection is found inside its document; a run edited before attaching is diffed', () => {
  const doc = 'Header\nMr. Speaker, Mr. President\nFooter';
  const link = TextLink.attach('Mr. Speaker', doc);
  assert.deepEqual(link.span(0, 3), [7, 10], 'expected the selection at offset 7');
  link.apply({ offset: 0, removed: 0, inserted: 4 });
  assert.deepEqual(link.span(4, 11), [15, 22]);
  const edited = TextLink.attach('one two three', 'one TWO three');
  assert.deepEqual(edited.span(0, 3), [0, 3]);
  assert.equal(edited.span(4, 7), null, 'expected the word changed before attaching to be dropped');
  assert.deepEqual(edited.span(8, 13), [8, 13]);
});

test('tokenAt finds the token holding an offset, and nothing outside the text', () => {
  const offsets = Int32Array.from([0, 1, 3, 4, 6]); // tokens a, bb (astral), c, dd
  assert.equal(tokenAt(offsets, 0), 0);
  assert.equal(tokenAt(offsets, 2), 1);
  assert.equal(tokenAt(offsets, 5), 3);
  assert.equal(tokenAt(offsets, 6), -1);
  assert.equal(tokenAt(offsets, -1), -1);
});
