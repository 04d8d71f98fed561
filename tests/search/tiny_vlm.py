"""A tiny LLaVA saved to a folder and loaded through from_pretrained like a real one: the local
VLM back end's tests (re-ranking, drafts) use it."""

import itertools
from pathlib import Path


def tiny_llava(directory: Path, *, answer: list[str] | None) -> Path:
    """Save a tiny LLaVA (CLIP vision tower, Llama text model) with its processor.

    Randomly initialised it writes garbage. With ``answer`` (its tokens: single characters,
    or longer pieces that become tokens of their own) its weights are set so that greedy
    decoding writes exactly that answer after the prompt: token embeddings are
    one-hot, attention and MLP outputs zero, so each next token depends only on the
    current one, and the output head maps each token of the answer to the next.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    special = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
    chars = sorted({chr(code) for code in range(32, 127)} | {"\n"})
    # Longer pieces are tokens of their own, so that the answer's chain of tokens has no repeats.
    words = [t for t in dict.fromkeys(answer or []) if t not in chars]
    vocab = {token: index for index, token in enumerate(special + chars + words)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tokenizer.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": "<image>"},
    )
    chat_template = (
        "{% for m in messages %}{{ m['role'] + ': ' }}{% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
        "{{ '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}"
    )
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ),
        tokenizer=fast,
        patch_size=8,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=chat_template,
    )
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
        ),
        text_config=LlamaConfig(
            vocab_size=len(vocab),
            hidden_size=128,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=2048,
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=3,
            tie_word_embeddings=False,
        ),
        image_token_id=vocab["<image>"],
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config)
    if answer is not None:
        text_model = model.model.language_model
        tokens = [" ", *answer, "</s>"]
        assert len(set(tokens)) == len(tokens), "each answer token may appear once"
        with torch.no_grad():
            text_model.embed_tokens.weight.zero_()
            text_model.embed_tokens.weight[:, : len(vocab)] = torch.eye(len(vocab))
            for layer in text_model.layers:
                layer.self_attn.o_proj.weight.zero_()
                layer.mlp.down_proj.weight.zero_()
            model.lm_head.weight.zero_()
            # The prompt ends with "assistant: ", so the answer follows its last space.
            for current, following in itertools.pairwise(tokens):
                model.lm_head.weight[vocab[following], vocab[current]] = 1.0
    directory.mkdir(parents=True)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory
