"""Shared fixtures: the shipped example tweets, split into small train and test files; a
tiny random RoBERTa, a run trained with it, and its ONNX exports."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

# Nothing in the tests may download: make Hugging Face fail fast instead of retrying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "tweets_sample.csv"


@pytest.fixture(scope="session")
def sample_frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE)


@pytest.fixture(scope="session")
def split_files(tmp_path_factory, sample_frame) -> tuple[Path, Path]:
    """(train.csv, test.csv): 2/3 of the sample to train on (with a leading index column,
    like the Datathon files), the rest as a test set."""
    folder = tmp_path_factory.mktemp("data")
    shuffled = sample_frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(len(shuffled) * 2 / 3)
    train, test = folder / "train.csv", folder / "test.csv"
    shuffled.iloc[:cut].to_csv(train)  # index column, as in the Datathon files
    shuffled.iloc[cut:].to_csv(test, index=False)
    return train, test


@pytest.fixture(scope="session")
def tfidf_run(tmp_path_factory, split_files) -> Path:
    """A finished 3-fold TF-IDF run on the sample (trained once per session, from Python)."""
    import odio

    train, test = split_files
    out = tmp_path_factory.mktemp("runs") / "tfidf"
    return odio.fit(train, {"cv": {"folds": 3}}, test=test, progress=False).save(out)


def build_tiny_encoder(
    folder: Path, texts: list[str], *, layers: int = 2, hidden: int = 32, positions: int = 130
) -> Path:
    """A random RoBERTa and a BPE tokenizer trained on ``texts``, saved as a HF directory."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaModel

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=600, special_tokens=specials))
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    from tokenizers import decoders

    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        cls_token="<s>",
        sep_token="</s>",
    )
    import torch

    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=positions,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    RobertaModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory, sample_frame) -> Path:
    """A 2-layer, 32-wide random RoBERTa with a tokenizer trained on the sample tweets."""
    from odio.text.preprocess import preprocess_many

    texts = preprocess_many(sample_frame["text"].tolist())
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny_roberta"), texts)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_encoder, split_files) -> Path:
    """A finished 2-fold run of the tiny transformer on the sample (trained once per session,
    from Python)."""
    import odio

    train, test = split_files
    config = {
        "model": str(tiny_encoder),
        "cv": {"folds": 2},
        "transformer": {"max_epochs": 3, "lr": 0.003, "batch_size": 16, "accelerator": "cpu"},
    }
    out = tmp_path_factory.mktemp("runs") / "tiny"
    return odio.fit(train, config, test=test, progress=False).save(out)


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory, tiny_run) -> dict[str, Path]:
    """``{"fp32": dir, "int8": dir}``: ONNX exports of the tiny run's model."""
    from odio.models.export import export_onnx

    folder = tmp_path_factory.mktemp("onnx")
    tweets = pd.read_csv(tiny_run / "oof.csv")["text"].tolist()
    return {
        "fp32": Path(export_onnx(tiny_run / "model", folder / "fp32").output),
        "int8": Path(
            export_onnx(tiny_run / "model", folder / "int8", int8=True, calibration=tweets).output
        ),
    }


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory, tiny_encoder) -> dict[str, Path]:
    """Published-style sequence-classification checkpoints (random weights): ``multi`` with
    three sigmoid classes like pysentimiento's hate model, ``binary`` with two softmax ones."""
    import torch
    from transformers import AutoTokenizer, RobertaConfig, RobertaForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    base = RobertaConfig.from_pretrained(tiny_encoder)
    shapes = {
        "multi": ({0: "hateful", 1: "targeted", 2: "aggressive"}, "multi_label_classification"),
        "binary": ({0: "non-hateful", 1: "hateful"}, "single_label_classification"),
    }
    out = {}
    for name, (id2label, problem) in shapes.items():
        torch.manual_seed(1)
        config = RobertaConfig(
            **{
                **base.to_dict(),
                "id2label": id2label,
                "label2id": {v: k for k, v in id2label.items()},
            },
        )
        config.problem_type = problem
        folder = tmp_path_factory.mktemp(f"checkpoint_{name}")
        RobertaForSequenceClassification(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        out[name] = folder
    return out


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray for the session (2 CPUs, no dashboard); skipped without the ray extra.

    odio's own ``connect`` finds it started and uses it, as it would a notebook's."""
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        ignore_reinit_error=True,
        logging_level="WARNING",
        log_to_driver=False,
    )
    yield ray
    ray.shutdown()
