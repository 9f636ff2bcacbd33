// The part of train.py (trainPy.ts) that continues a classify or generate run: the task file read and
// split as taskData.ts and tsv.ts do, the batches of buckets.ts drawn with rng.ts's generator, the loss
// of taskNet.ts and the held-out scores of taskEval.ts, and the training record of taskTrainer.ts, so
// that the run goes on in PyTorch as taskTrainer.ts would have gone on (test/unit/pytorchTaskTraining.test.ts
// holds it to the engine update by update). Python kept as text: no backtick and no dollar-brace in it.
import { END_OF_TEXT } from '../engine/taskData.js';
import { TASK_DEFAULTS, TASK_TRAINING_KEY, VALIDATION_SAMPLE } from '../engine/taskTrainer.js';

export function taskConstants(): Record<string, unknown> {
  return {
    taskDefaults: Object.fromEntries(Object.entries(TASK_DEFAULTS).map(([task, d]) => [task, d.train])),
    endOfText: END_OF_TEXT,
    taskTrainingKey: TASK_TRAINING_KEY,
    translateValidationSample: VALIDATION_SAMPLE,
  };
}

export const TASK_RUNS_PY = String.raw`
# ---- task runs: classify and generate (taskTrainer.ts) -----------------------------------------------

# JavaScript's \s (String.prototype.trim and /\S+/), which differs from Python's in a few code points.
JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
JS_NON_SPACE = re.compile("[^" + "".join("\\u%04x" % ord(c) for c in JS_SPACE) + "]+")


class Rng:
    """rng.ts: sfc32 seeded by splitmix32; its 4-word state is what checkpoints store."""

    def __init__(self, seed):
        s = seed & 0xFFFFFFFF
        words = []
        for _ in range(4):
            s = (s + 0x9E3779B9) & 0xFFFFFFFF
            z = s
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & 0xFFFFFFFF
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & 0xFFFFFFFF
            words.append((z ^ (z >> 16)) & 0xFFFFFFFF)
        self.a, self.b, self.c, self.d = words
        for _ in range(12):
            self.next_uint32()

    @staticmethod
    def from_state(state):
        r = Rng(0)
        r.a, r.b, r.c, r.d = (int(x) & 0xFFFFFFFF for x in state)
        return r

    def state(self):
        return [self.a, self.b, self.c, self.d]

    def next_uint32(self):
        t = (self.a + self.b + self.d) & 0xFFFFFFFF
        self.d = (self.d + 1) & 0xFFFFFFFF
        self.a = self.b ^ (self.b >> 9)
        self.b = (self.c + (self.c << 3)) & 0xFFFFFFFF
        self.c = ((self.c << 21) | (self.c >> 11)) & 0xFFFFFFFF
        self.c = (self.c + t) & 0xFFFFFFFF
        return t

    def int(self, n):
        return math.floor(self.next_uint32() / 4294967296 * n)


class LengthBatches:
    """buckets.ts: each epoch the examples by length (ties in a fresh random order), cut into batches of B, visited in a random order."""

    def __init__(self, lengths, batch):
        self.batch, n = batch, len(lengths)
        by_length = sorted(range(n), key=lambda i: (lengths[i], i))
        self.groups = []  # [start, end) of each length's run in by_length
        for i, e in enumerate(by_length):
            if i and lengths[e] == lengths[by_length[i - 1]]:
                self.groups[-1][1] = i + 1
            else:
                self.groups.append([i, i + 1])
        self.by_length = by_length
        self.order = list(by_length)
        self.count = -(-n // batch)
        self.visit = list(range(self.count))
        self.next = self.count
        self.epoch = 0
        self.epoch_rng = None

    def next_batch(self, rng):
        if self.next >= self.count:
            self.shuffle(rng)
        start = self.visit[self.next] * self.batch
        self.next += 1
        return start, min(self.batch, len(self.order) - start)

    def state(self):
        return {"epoch": self.epoch, "next": self.next, "epochRng": self.epoch_rng}

    def restore(self, p):
        if p.get("epochRng") is None:
            return
        self.shuffle(Rng.from_state(p["epochRng"]))
        self.epoch = p["epoch"]
        self.next = min(max(0, p["next"]), self.count)

    def shuffle(self, rng):
        self.epoch_rng = rng.state()
        order = self.order = list(self.by_length)
        for lo, hi in self.groups:
            for i in range(hi - 1, lo, -1):
                j = lo + rng.int(i - lo + 1)
                order[i], order[j] = order[j], order[i]
        visit = self.visit = list(range(self.count))
        for k in range(self.count - 1, 0, -1):
            j = rng.int(k + 1)
            visit[k], visit[j] = visit[j], visit[k]
        self.next = 0
        self.epoch += 1


def parse_tsv(text, source):
    """tsv.ts: input<TAB>output per line, blank lines skipped, any other line without exactly one tab refused."""
    examples, first, bad = [], None, 0
    for number, s in enumerate(text.split("\n"), 1):
        if s.endswith("\r"):
            s = s[:-1]
        if not s.strip(JS_SPACE):
            continue
        tabs = s.count("\t")
        why = (
            "has no tab between its input and its output" if tabs == 0
            else f"has {tabs} tabs; a line holds exactly one, between its input and its output" if tabs > 1
            else "has an empty input (nothing before the tab)" if s.startswith("\t")
            else "has an empty output (nothing after the tab)" if s.endswith("\t")
            else None
        )
        if why:
            bad += 1
            first = first or (number, why)
            continue
        i = s.index("\t")
        examples.append((s[:i], s[i + 1 :]))
    if first:
        more = f" ({bad - 1} more line{'s are' if bad > 2 else ' is'} not input<TAB>output either)" if bad > 1 else ""
        raise Refused(f"{source}:{first[0]}: the line {first[1]}{more}; fix or remove such lines and start again")
    if not examples:
        raise Refused(f"{source} has no examples: write one per line as input<TAB>output")
    return examples


def held_out_indices(n, share, seed, most):
    """taskData.ts heldOutIndices: a seeded Fisher-Yates sample of round(n * share) lines (at most most, 0 = no limit)."""
    k = math.floor(n * share + 0.5)
    if most > 0:
        k = min(most, k)
    order, rng = list(range(n)), Rng((seed ^ 0x5EED5) & 0xFFFFFFFF)
    for i in range(n - 1, 0, -1):
        j = rng.int(i + 1)
        order[i], order[j] = order[j], order[i]
    return set(order[:k])


def utf16_hash(text):
    """taskTrainer.ts's FNV-1a over the text's UTF-16 code units: batches continue only on the text they were drawn from."""
    h = 0x811C9DC5
    units = text.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h = ((h ^ (units[i] | units[i + 1] << 8)) * 0x01000193) & 0xFFFFFFFF
    return h


def encode_reference(text, spec, ids):
    """taskData.ts encodeKnown, with translate's reference: every token's id, -1 where the vocabulary lacks it
    (a word tokenizer's unknown token stands for it instead)."""
    if spec["kind"] == "word":
        unknown = ids[spec.get("unknown", "<unk>")]
        return [ids.get(w, unknown) for w in word_pattern_cached().findall(text)]
    pieces = text if spec["kind"] == "char" else JS_NON_SPACE.findall(text)
    return [ids.get(p, -1) for p in pieces]


def encode_known(text, spec, ids):
    """taskData.ts encodeKnown: the ids of the tokens the vocabulary knows (a word tokenizer's unknown token is kept)."""
    return [i for i in encode_reference(text, spec, ids) if i >= 0]


def edit_distance(a, b):
    """taskEval.ts editDistance: insertions, deletions and substitutions (a -1 in b matches nothing)."""
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            same = a[i - 1] == b[j - 1] and b[j - 1] >= 0
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (0 if same else 1))
        prev = cur
    return prev[len(b)]


_word_pattern = []


def word_pattern_cached():
    if not _word_pattern:
        _word_pattern.append(word_pattern())
    return _word_pattern[0]


class TaskRun:
    """taskTrainer.ts for classify, generate and translate: an update is a batch of examples of like length,
    padded to the longest; its loss the mean per example (classify) or per output token (generate, translate).
    An example is (text ids, label id, target ids, reference): the last two translate's only.
    Each process runs its share of the batch's examples; see LanguageModelRun for the interface."""

    def __init__(self, ck, text_path, rank, world, device):
        ck_path, tensors, meta, config, self.spec, record = ck
        self.meta, self.record, self.rank, self.world, self.device = meta, record, rank, world, device
        self.task = config["task"]
        if self.task not in ("classify", "generate", "translate"):
            raise Refused(f"{ck_path}: task {self.task!r}: this train.py continues lm, classify, generate and translate runs")
        c = self.train = {**ENGINE["defaultTrain"], **ENGINE["taskDefaults"][self.task], **record.get("train", {})}
        vocab = self.spec["vocab"]
        labels = self.labels = config.get("labels") or [""]  # translate's examples all have the label 0
        E, H, L, cell = config.get("embedding", 0), config["hidden"], config["layers"], config["cell"]
        self.target_spec = None
        if self.task == "classify":
            model = Classifier(len(vocab), E, H, L, cell, config.get("bidirectional", False), len(labels), config.get("pooling", "last"))
        elif self.task == "generate":
            model = Generator(len(vocab), E, H, L, cell, len(labels))
        else:
            try:
                self.target_spec = json.loads(meta["recurrent.targetTokenizer"])
            except (KeyError, ValueError):
                raise Refused(f"{ck_path}: a translate checkpoint needs its target tokenizer (recurrent.targetTokenizer)")
            model = Translator(len(vocab), len(self.target_spec["vocab"]), E, H, L, cell, config.get("bidirectional", False))
        self.max_output = config.get("maxOutput", 0)
        missing = [name for name in model.state_dict() if name not in tensors]
        if missing:
            raise Refused(f"{ck_path}: tensor {missing[0]} is missing (the config needs it)")
        model.load_state_dict({name: tensors[name] for name in model.state_dict()})
        self.model = self.net = model.to(device)
        self.names = [n for n, _ in model.named_parameters()]
        self.cell, self.layers, self.hidden, self.embedding = cell, L, H, E

        text = read_text(text_path)
        self.text_chars = len(text)
        examples = parse_tsv(text, text_path)
        held = held_out_indices(len(examples), c["valShare"], c["seed"], c.get("valMax", 0))
        ids = {t: i for i, t in enumerate(vocab)}
        self.target_ids = {t: i for i, t in enumerate(self.target_spec["vocab"])} if self.target_spec else None
        self.end = (self.target_ids or ids).get(ENGINE["endOfText"], -1)
        if self.task != "classify" and self.end < 0:
            raise Refused(f"{ck_path}: the vocabulary has no end token")
        self.train_set, self.held_out = self.encode([e for i, e in enumerate(examples) if i not in held], ids, text_path, config), None
        self.held_out = self.encode([e for i, e in enumerate(examples) if i in held], ids, text_path, config)
        if not self.train_set:
            raise Refused(f"{text_path}: no examples are left for training: lower the held-out share")
        if c["batch"] < world:
            raise Refused(f"the run's batch is {c['batch']} examples, fewer than the {world} processes: each process needs an example")
        self.batches = LengthBatches(self.batch_keys(), c["batch"])
        rng_ok = isinstance(record.get("rng"), list) and len(record["rng"]) == 4
        self.rng = Rng.from_state(record["rng"]) if rng_ok else Rng(c["seed"])
        self.text_hash = utf16_hash(text)
        self.file_lines = len(examples)
        self.updates = record.get("updates", 0)
        self.examples_seen = record.get("examples", 0)
        self.tokens_seen = record.get("tokens", 0)
        self.elapsed_ms = record.get("elapsedMs", 0)
        self.run_examples = 0
        b = record.get("batches")
        self.same_text = rng_ok and record.get("textHash") == self.text_hash and isinstance(b, dict)
        if self.same_text:
            self.batches.restore(b)
        self.optimizer, self.slots = make_optimizer(c, self.model.parameters())
        if "recurrent.training" in meta:
            load_optimizer(self.optimizer, self.names, self.slots, tensors, self.updates, c["optimizer"])
        self.history = History(meta.get("recurrent.history"))
        self.count, self.correct, self.batch = 1, 0.0, []
        # validate("sample") translates ENGINE["translateValidationSample"] of the held-out lines, "full" all; the others score all every time
        self.sampled = self.task == "translate"
        out_kind = (self.target_spec or self.spec)["kind"]
        self.unit = "example" if self.task == "classify" else ("char" if out_kind == "char" else "token")

    def batch_keys(self):
        # taskTrainer.ts batchKeys: translate by source length, then target length
        if self.task != "translate":
            return [len(e[0]) for e in self.train_set]
        longest = max(len(e[2]) for e in self.train_set)
        return [len(e[0]) * (longest + 1) + len(e[2]) for e in self.train_set]

    def encode(self, examples, ids, source, config):
        """taskData.ts encodeExamples (and encodeTranslations): texts cut at maxLength, generate's and translate's
        outputs ended with the end token unless cut."""
        label_ids = {l: i for i, l in enumerate(self.labels)}
        limit = config.get("maxLength", 0) or math.inf
        if self.task == "generate":
            limit -= 1
        out = []
        for text, label in examples:
            if self.task == "translate":
                seq = encode_known(text, self.spec, ids)
                seq = seq[: max(1, int(limit))] if len(seq) > limit else seq
                ref = encode_reference(label, self.target_spec, self.target_ids)
                target, cut = [i for i in ref if i >= 0], limit - 1
                target = target[: max(1, int(cut))] if len(target) > cut else target + [self.end]
                out.append((seq, 0, target, ref))
                continue
            if label not in label_ids:
                known = ", ".join(json.dumps(l, ensure_ascii=False) for l in self.labels)
                raise Refused(f"{source}: the label {json.dumps(label, ensure_ascii=False)} is not one the model knows ({known})")
            seq = encode_known(text, self.spec, ids)
            if len(seq) > limit:
                seq = seq[: max(1, int(limit))]
            elif self.task == "generate":
                seq.append(self.end)
            out.append((seq, label_ids[label], None, None))
        return out

    def tensors(self, batch):
        """A batch of (ids, label) as the module reads it: classify's padded texts and lengths,
        generate's inputs (the end token, then the text) and targets (the text, then the end token; -100 past it)."""
        labels = torch.tensor([e[1] for e in batch], dtype=torch.long, device=self.device)
        if self.task != "generate":
            S = max(1, max(len(e[0]) for e in batch))
            sources = torch.zeros(len(batch), S, dtype=torch.long)
            for r, e in enumerate(batch):
                sources[r, : len(e[0])] = torch.tensor(e[0], dtype=torch.long)
            lengths = torch.tensor([len(e[0]) for e in batch], dtype=torch.long)
            if self.task == "classify":
                return sources.to(self.device), lengths, labels
        outs = [e[2] if self.task == "translate" else e[0] for e in batch]
        T = max(1, max(len(s) for s in outs))
        ids = torch.zeros(len(batch), T, dtype=torch.long)
        targets = torch.full((len(batch), T), -100, dtype=torch.long)
        for r, s in enumerate(outs):
            ids[r, : len(s)] = torch.tensor([self.end] + s[:-1], dtype=torch.long)
            targets[r, : len(s)] = torch.tensor(s, dtype=torch.long)
        if self.task == "translate":
            return (sources.to(self.device), lengths, ids.to(self.device)), targets.to(self.device)
        return ids.to(self.device), targets.to(self.device), labels

    def scores(self, net, batch):
        """Summed loss of the batch, and classify's right predictions."""
        if self.task == "classify":
            ids, lengths, labels = self.tensors(batch)
            logits = net(ids, lengths).float()
            return F.cross_entropy(logits, labels, reduction="sum"), float((logits.argmax(1) == labels).sum())
        if self.task == "translate":
            inputs, targets = self.tensors(batch)
            logits = net(*inputs)
        else:
            ids, targets, labels = self.tensors(batch)
            logits, _ = net(ids, labels)
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="sum"), 0.0

    # -- one update

    def forward(self, net, autocast):
        start, size = self.batches.next_batch(self.rng)
        batch = self.batch = [self.train_set[self.batches.order[start + i]] for i in range(size)]
        self.count = size if self.task == "classify" else sum(len(e[2] if self.task == "translate" else e[0]) for e in batch)
        mine = batch[size * self.rank // self.world : size * (self.rank + 1) // self.world]
        # A process without an example of a short last batch still takes part in DDP's gradient average, with nothing.
        with autocast():
            loss, correct = self.scores(net, mine or batch[:1])
        if not mine:
            loss, correct = loss * 0, 0.0
        self.correct = correct
        return loss, None

    def commit(self, after):
        self.updates += 1
        self.examples_seen += len(self.batch)
        self.run_examples += len(self.batch)
        tokens = sum(len(e[0]) for e in self.batch) if self.task == "classify" else self.count
        self.tokens_seen += tokens
        return tokens

    def step_metrics(self, m, correct, run_ms):
        m["epoch"] = self.batches.epoch
        m["examples"] = self.examples_seen
        m["accuracy"] = correct / len(self.batch) if self.task == "classify" else None
        m["examplesPerSecond"] = self.run_examples * 1000 / run_ms if run_ms > 0 else 0
        return m

    def full_state(self, reduce):
        return None

    def checkpoint(self, path, _state):
        tensors = [(n, p) for n, p in self.model.state_dict().items()] + optimizer_tensors(self.optimizer, self.model, self.names, self.slots)
        record = {
            "train": self.train,
            "updates": self.updates,
            "examples": self.examples_seen,
            "tokens": self.tokens_seen,
            "elapsedMs": self.elapsed_ms,
            "rng": self.rng.state(),
            "fileLines": self.file_lines,
            "batches": self.batches.state(),
            "textHash": self.text_hash,
        }
        meta = dict(self.meta)
        meta[ENGINE["taskTrainingKey"]] = json.dumps(record, separators=(",", ":"))
        meta["recurrent.history"] = self.history.json(self.updates)
        write_safetensors(path, tensors, meta)

    # -- the held-out examples (taskEval.ts), on the lead process, in batches of like length

    @torch.no_grad()
    def validate(self, scope):
        held = self.held_out
        most = ENGINE["translateValidationSample"]
        if self.task == "translate" and scope == "sample" and len(held) > most:  # taskTrainer.ts spread()
            held = [held[math.floor(i * len(held) / most)] for i in range(most)]
        held = sorted(held, key=lambda e: len(e[0]))
        total, right, B = 0.0, 0.0, self.train["batch"]
        for s in range(0, len(held), B):
            loss, correct = self.scores(self.model, held[s : s + B])
            total += float(loss)
            right += correct
        n = len(held)
        units = n if self.task == "classify" else sum(len(e[2] if self.task == "translate" else e[0]) for e in held)
        mean = total / units if units else math.nan
        v = {"step": self.updates, "lossNats": mean, "bitsPerToken": mean / math.log(2), "tokens": units, "examples": n}
        if self.task == "classify":
            v["accuracy"] = right / n if n else math.nan
        if self.task == "translate":
            wrong = edits = length = 0
            for s in range(0, n, B):
                batch = held[s : s + B]
                for out, e in zip(self.greedy(batch), batch):
                    d = edit_distance(out, e[3])
                    wrong, edits, length = wrong + (d > 0), edits + d, length + len(e[3])
            v["wordErrorRate"] = wrong / n if n else math.nan
            v["tokenErrorRate"] = edits / length if length else math.nan
        return v

    def greedy(self, batch):
        """translateDecode.ts greedy: from the encoder's final states, the most probable token each step until the end token or maxOutput tokens."""
        (sources, lengths, _), _ = self.tensors(batch)
        state = self.model.encode(sources, lengths)
        tokens = torch.full((len(batch), 1), self.end, dtype=torch.long, device=self.device)
        outs, done = [[] for _ in batch], [False] * len(batch)
        for _ in range(self.max_output):
            if all(done):
                break
            logits, state = self.model.decoder(tokens, state)
            y = logits[:, -1].argmax(-1)
            for r, t in enumerate(y.tolist()):
                if done[r]:
                    continue
                if t == self.end:
                    done[r] = True
                else:
                    outs[r].append(t)
            tokens = y[:, None]
        return outs

    def validation_due(self):
        every = self.train["evalEvery"]
        return every > 0 and self.updates > 0 and self.updates % every == 0 and len(self.held_out) > 0

    def summary(self, v):
        if self.task == "translate":
            return f"word error {v['wordErrorRate']:.3f}, token error {v['tokenErrorRate']:.3f}, {v['bitsPerToken']:.3f} bits/{self.unit}"
        if self.task == "classify":
            return f"accuracy {v['accuracy']:.1%}, loss {v['lossNats']:.4f} nats/example"
        return f"{v['bitsPerToken']:.3f} bits/{self.unit}"

    def describe(self, text_path):
        c, W = self.train, self.world
        B = c["batch"]
        lines = [
            f"{text_path}: {len(self.train_set):,} training and {len(self.held_out):,} held-out examples, "
            + (
                f"{len(self.labels)} labels, vocabulary {len(self.spec['vocab'])} {self.spec['kind']} tokens"
                if self.task != "translate"
                else f"sources of {len(self.spec['vocab'])} {self.spec['kind']} tokens, targets of {len(self.target_spec['vocab'])} {self.target_spec['kind']} tokens"
            ),
            f"model: {self.task}, {self.cell} hidden {self.hidden} x {self.layers} layer(s), "
            f"{'embedding %d' % self.embedding if self.embedding else 'one-hot input'}, {sum(p.numel() for p in self.model.parameters()):,} parameters",
            f"training: batch {B} examples{'' if W == 1 else f', about {B // W} in each process'}, epoch {self.batches.epoch}",
        ]
        if self.updates and not self.same_text:
            lines.append("this file is not the one the run was trained on (its text differs): the batches start a new epoch")
        return lines
`;
