#!/usr/bin/env python3
"""Makes the golden data that proofmesh's tests compare against.

Run on the GPU machine, where transformers 5.17 and tokenizers are installed (see README.md next
to this file). It writes small JSON files and tiny models into tests/golden/data/:

- tokenizers/<family>/tokenizer.json + ids.json: tokenizer.json files built with the `tokenizers`
  library to mirror the Qwen2, Llama 3 and DeepSeek-V3 pre-tokenization, and the ids it gives for
  tricky text (CJK, emoji, combining marks, digit runs, whitespace runs, CRLF, glued specials).
- init/<arch>.json: for models written by `proofmesh model init` (passed in with --init-models),
  transformers' float32 logits for a prompt, its greedy continuation with top-5 logprobs, the ids
  `tokenizers` gives with our tokenizer.json, and the text of transformers' apply_chat_template.
- hf/<arch>/: tiny random models that transformers itself wrote with save_pretrained (one in
  bf16), with hf/<arch>/expected.json holding transformers' greedy ids and top-5 logprobs.

Everything runs on the CPU in float32: this is the numerical reference, not a benchmark.
"""
import argparse
import json
import os
import pathlib

import torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, processors, trainers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
DSV3_REGEXES = [
    r"\p{N}{1,3}",
    r"[一-龥぀-ゟ゠-ヿ]+",
    (r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|"
     r" ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"),
]

TRICKY = [
    "Hello, world! Let n be a positive integer.",
    "数学证明：设 n 为正整数，则 n² ≥ n。",
    "ひらがなとカタカナ、そして漢字。",
    "안녕하세요 세계",
    "مرحبا بالعالم שלום עולם",
    "Emoji: 👋🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 math 🧮",
    "Combining: e\u0301 cafe\u0301 n\u0303 a\u0308\u0304 Å vs A\u030a",
    "Digits: 12345678901234567890 3.14159e-10 0x1F 1,000,000",
    "Whitespace:   a    b\t\t\tc \n\n\n   d      ",
    "Windows\r\nline\r\nendings\r\n\r\n",
    "   leading and trailing   ",
    "I'LL don't we've they'RE it's",
    "$\\sum_{i=1}^{n} i^2 = \\frac{n(n+1)(2n+1)}{6}$ and \\boxed{1}",
    "Unicode spaces:a\u00a0b\u2003c\u3000d\u200be",
    "",
    " ",
    "\n",
    "x",
    "tab\tseparated\tvalues\n",
]

SPECIALS = {
    "qwen2": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    "llama3": ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
               "<|eot_id|>"],
    "deepseek_v3": ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>",
                    "<｜Assistant｜>"],
}

GLUED = {
    "qwen2": ["<|im_start|>user\nProve it.<|im_end|>\n<|im_start|>assistant\n",
              "x<|endoftext|>y", "<|im_end|><|im_end|>", "a <|im_start|> b"],
    "llama3": ["<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
               "end<|end_of_text|>", "a <|eot_id|> b"],
    "deepseek_v3": ["<｜begin▁of▁sentence｜><｜User｜>Prove 1+1=2.<｜Assistant｜><think>\nok\n</think>\nDone",
                    "x<｜end▁of▁sentence｜>y", "<think>a</think> b"],
}


def corpus():
    here = pathlib.Path(__file__).read_text(encoding="utf-8")
    text = [here] * 3 + TRICKY * 20
    text += ["The proof proceeds by induction on n. Suppose the claim holds for n - 1; "
             "then for n we have (n - 1)^2 + 2n - 1 = n^2. Therefore the statement is true."] * 40
    return text


def build_tokenizer(family):
    ignore_merges = family == "llama3"
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if family == "qwen2":
        tok.normalizer = normalizers.NFC()
        splits = [pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False)]
    elif family == "llama3":
        splits = [pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated", invert=False)]
    else:
        splits = [pre_tokenizers.Split(Regex(r), behavior="isolated", invert=False)
                  for r in DSV3_REGEXES]
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        splits + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1200, min_frequency=2,
                                  special_tokens=SPECIALS[family],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus(), trainer=trainer)
    if family == "llama3":
        bos = "<|begin_of_text|>"
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
            special_tokens=[(bos, tok.token_to_id(bos))])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    if family == "deepseek_v3":
        # DeepSeek's <think> tokens are added, not special, and are kept by skip_special_tokens.
        tok.add_tokens([AddedToken("<think>", normalized=False, special=False),
                        AddedToken("</think>", normalized=False, special=False)])
    if family == "qwen2":
        tok.add_special_tokens([AddedToken("<|lstrip|>", lstrip=True, rstrip=True,
                                           normalized=False, special=True)])
    return tok


def encode_cases(tok, texts):
    cases = []
    for text in texts:
        cases.append({"text": text,
                      "ids": tok.encode(text, add_special_tokens=False).ids,
                      "ids_with_special": tok.encode(text, add_special_tokens=True).ids})
    return cases


def make_tokenizers(out):
    for family in ["qwen2", "llama3", "deepseek_v3"]:
        tok = build_tokenizer(family)
        d = out / "tokenizers" / family
        d.mkdir(parents=True, exist_ok=True)
        tok.save(str(d / "tokenizer.json"))
        extra = ["a <|lstrip|>   b", "x<|lstrip|>y"] if family == "qwen2" else []
        cases = encode_cases(tok, TRICKY + GLUED[family] + extra)
        for c in cases:
            c["decoded"] = tok.decode(c["ids"], skip_special_tokens=False)
        (d / "ids.json").write_text(json.dumps(cases, ensure_ascii=False, indent=0) + "\n",
                                    encoding="utf-8")
        print(f"tokenizer {family}: vocab {tok.get_vocab_size()}, {len(cases)} cases")


def greedy(model, ids, steps, eos):
    inp = torch.tensor([ids])
    out = model.generate(inp, max_new_tokens=steps, do_sample=False, output_logits=True,
                         return_dict_in_generate=True, eos_token_id=eos, pad_token_id=0)
    new = out.sequences[0, len(ids):].tolist()
    steps_lp = []
    for logits in out.logits:
        lp = torch.log_softmax(logits[0].double(), dim=-1)
        top = torch.topk(lp, 5)
        steps_lp.append({"top_ids": top.indices.tolist(), "top_logprobs": top.values.tolist()})
    return new, steps_lp


def make_init_goldens(out, init_root):
    for arch_dir in sorted(pathlib.Path(init_root).iterdir()):
        model = AutoModelForCausalLM.from_pretrained(arch_dir, dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        hf_tok = Tokenizer.from_file(str(arch_dir / "tokenizer.json"))
        try:
            auto_tok = AutoTokenizer.from_pretrained(arch_dir)
        except Exception as e:  # older or newer class names: fall back to the fast tokenizer
            print(f"AutoTokenizer failed ({e}); using PreTrainedTokenizerFast")
            from transformers import PreTrainedTokenizerFast
            cfg = json.loads((arch_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
            auto_tok = PreTrainedTokenizerFast(tokenizer_file=str(arch_dir / "tokenizer.json"))
            auto_tok.chat_template = cfg["chat_template"]
        prompt = "Let n be a positive integer. Prove that n^2 + n is even."
        ids = hf_tok.encode(prompt, add_special_tokens=True).ids
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]
        eos = model.generation_config.eos_token_id
        new, steps_lp = greedy(model, ids, 12, eos)
        messages = [{"role": "system", "content": "Be rigorous."},
                    {"role": "user", "content": "Prove that 1 + 1 = 2."}]
        chat = auto_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        record = {
            "model": arch_dir.name,
            "prompt": prompt,
            "prompt_ids": ids,
            "logits": [[round(float(x), 7) for x in row] for row in logits],
            "greedy_ids": new,
            "greedy_logprobs": steps_lp,
            "tokenizer_cases": encode_cases(hf_tok, TRICKY),
            "chat_messages": messages,
            "chat_text": chat,
        }
        (out / "init").mkdir(parents=True, exist_ok=True)
        (out / "init" / f"{arch_dir.name}.json").write_text(
            json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"init {arch_dir.name}: {len(ids)} prompt ids, greedy {new}")


HF_SHAPES = {
    "llama": dict(model_type="llama", rope_parameters={
        "rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 64}),
    "qwen2": dict(model_type="qwen2", tie_word_embeddings=True),
    "qwen3": dict(model_type="qwen3", head_dim=16, tie_word_embeddings=False),
}


def make_hf_models(out):
    for arch, extra in HF_SHAPES.items():
        torch.manual_seed(1234)
        kwargs = dict(vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      initializer_range=0.2, bos_token_id=1, eos_token_id=2, pad_token_id=0)
        kwargs.update({k: v for k, v in extra.items() if k != "model_type"})
        config = AutoConfig.for_model(extra["model_type"], **kwargs)
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
        save_dtype = torch.bfloat16 if arch == "qwen2" else torch.float32
        d = out / "hf" / arch
        d.mkdir(parents=True, exist_ok=True)
        model.to(save_dtype).save_pretrained(d)
        # The reference computes in float32 from the saved weights, as our CPU backend does.
        ref = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32,
                                                   attn_implementation="eager").eval()
        prompt_ids = [1, 17, 42, 99, 3, 250, 128, 64, 7]
        new, steps_lp = greedy(ref, prompt_ids, 12, ref.generation_config.eos_token_id)
        (d / "expected.json").write_text(json.dumps(
            {"prompt_ids": prompt_ids, "greedy_ids": new, "greedy_logprobs": steps_lp,
             "saved_dtype": str(save_dtype)}) + "\n")
        print(f"hf {arch} ({save_dtype}): greedy {new}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "data"))
    ap.add_argument("--init-models", help="folder of `proofmesh model init` outputs, one per arch")
    args = ap.parse_args()
    torch.set_num_threads(min(8, os.cpu_count() or 1))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import traceback
    steps = [make_tokenizers, make_hf_models]
    if args.init_models:
        steps.append(lambda o: make_init_goldens(o, args.init_models))
    failed = 0
    for step in steps:
        try:
            step(out)
        except Exception:  # keep going: one call on the GPU machine should bring back all it can
            traceback.print_exc()
            failed += 1
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
