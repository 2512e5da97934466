"""The synthetic catalog: 100,000 models drawn with one seeded RNG from the real data in
/work/shared/data (the Hub snapshot, the Open LLM Leaderboard, the ML.ENERGY index)."""

import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

DATA = Path("/work/shared/data")
HUB_FILE = "hf_transformersjs_feature_extraction_daily_2024-05_2026-05.csv.gz"
SEED = 20260501
N_MODELS = 100_000
LICENSES = {  # assumed shares: the real data has no licence column
    "apache-2.0": 35, "mit": 18, None: 20, "llama3.1": 5, "cc-by-nc-4.0": 5, "other": 5,
    "openrail": 3, "cc-by-4.0": 4, "gemma": 2, "llama2": 3,
}  # fmt: skip
VARIANTS = ["GGUF", "AWQ", "GPTQ", "4bit", "8bit", "onnx", "ft", "v2", "instruct", "lora", "merged"]
# How a variant derives from its template, as the Hub tags it (`base_model:<relation>:<id>`);
# an onnx export names its base without a relation.
RELATION = {"GGUF": "quantized", "AWQ": "quantized", "GPTQ": "quantized", "4bit": "quantized",
            "8bit": "quantized", "ft": "finetune", "v2": "finetune", "instruct": "finetune",
            "lora": "adapter", "merged": "merge"}  # fmt: skip
GATED_SHARE = 0.05  # assumed: the real export has a gated column, but every value is False
MLENERGY_TASKS = {
    "lm-arena-chat": "text-generation", "gpqa": "text-generation",
    "sourcegraph-fim": "text-generation", "image-chat": "image-text-to-text",
    "video-chat": "image-text-to-text", "text-to-image": "text-to-image",
    "text-to-video": "text-to-video",
}  # fmt: skip
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)


def real_models() -> tuple[list[dict], pd.DataFrame]:
    """(templates: id, author, task, params) and the Hub snapshot's popularity rows."""
    columns = ["id", "pipeline_tag", "numParameters", "downloads", "likes", "lastModified"]
    hub = pd.read_csv(DATA / f"hf_hub/{HUB_FILE}", usecols=columns)
    templates = {
        r.id: {"id": r.id, "task": r.pipeline_tag,
               "params": None if pd.isna(r.numParameters) else int(r.numParameters)}
        for r in hub.drop_duplicates("id").itertuples()
    }  # fmt: skip
    for path in sorted((DATA / "leaderboards/open_llm_leaderboard_2023").glob("*.csv")):
        board = pd.read_csv(path, encoding="utf-8-sig")
        urls = board["URL"] if "URL" in board else board.iloc[:, 0]
        for name in urls.dropna().astype(str):
            model_id = name.removeprefix("https://huggingface.co/").strip()
            if model_id.count("/") == 1 and model_id not in templates:
                size = _SIZE.search(model_id.split("/")[1])
                params = None
                if size:
                    params = int(float(size[1]) * (1e9 if size[2].lower() == "b" else 1e6))
                templates[model_id] = {"id": model_id, "task": "text-generation", "params": params}
    index = json.loads((DATA / "benchmarks/mlenergy_v3/index.json").read_text())["models"]
    for path in (DATA / "benchmarks/mlenergy_v3/tasks").glob("*.json"):
        task = MLENERGY_TASKS.get(path.stem, "text-generation")
        for config in json.loads(path.read_text())["configurations"]:
            meta = index.get(config["model_id"], {})
            billions = meta.get("total_params_billions") or config.get("total_params_billions")
            templates[config["model_id"]] = {
                "id": config["model_id"], "task": task,
                "params": int(billions * 1e9) if billions else None,
            }  # fmt: skip
    return list(templates.values()), hub[["downloads", "likes", "lastModified"]]


def synthetic_catalog(n: int) -> list[dict]:
    """Models drawn from the real templates; a variant names its template as its base model.

    Lineage and `gated` come from a second RNG, so the other columns are drawn exactly as
    before they were added (the numbers stay comparable with earlier runs)."""
    rng, extra = random.Random(SEED), random.Random(SEED + 2)
    templates, popularity = real_models()
    authors = sorted({t["id"].split("/")[0] for t in templates})
    pop = popularity.to_dict("records")
    licenses, weights = list(LICENSES), list(LICENSES.values())
    now, seen, rows = datetime(2026, 5, 7, tzinfo=UTC), set(), []
    while len(rows) < n:
        t = rng.choice(templates)
        author, name = t["id"].split("/")
        variant = None
        if rng.random() < 0.6:  # re-uploads, quantisations, fine-tunes by other accounts
            author = rng.choice(authors)
            variant = rng.choice(VARIANTS)
            name = f"{name}-{variant}"
        model_id = f"{author}/{name}"
        while model_id in seen:
            model_id = f"{author}/{name}-{rng.randrange(10_000)}"
        seen.add(model_id)
        relation = RELATION.get(variant or "")
        named = f"{relation}:{t['id']}" if relation else t["id"]
        lineage_tags = [f"base_model:{named}"] if variant else []
        p = rng.choice(pop)
        manifest = rng.random() < 0.01  # private manifests: no popularity, no dates
        modified = datetime.fromisoformat(p["lastModified"].replace("Z", "+00:00"))
        rows.append({
            "id": model_id, "source": "manifest" if manifest else "hf", "author": author,
            "pipeline_tag": t["task"], "library_name": "transformers",
            "license": rng.choices(licenses, weights)[0], "private": False,
            "num_parameters": t["params"], "sha": f"{rng.getrandbits(160):040x}",
            "last_modified": None if manifest else modified - timedelta(days=rng.randrange(400)),
            "downloads": None if manifest else int(p["downloads"] * rng.uniform(0.2, 5)),
            "likes": None if manifest else int(p["likes"] * rng.uniform(0.2, 5)),
            "tags": [t["task"], "transformers", "region:us", *lineage_tags],
            "base_models": [t["id"]] if variant else [],
            "gated": extra.random() < GATED_SHARE,
            "extra": {"siblings": rng.randrange(3, 40)},
            "removed_at": now - timedelta(days=rng.randrange(90)) if rng.random() < 0.02 else None,
        })  # fmt: skip
    return rows
