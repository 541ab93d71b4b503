"""``dosewise serve``: the page, the JSON API (results equal to the commands', one-line 4xx
errors, size limits), no path outside the served folders, a live session end to end, and a
bounded loopback load test."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

pytest.importorskip("starlette")
pytest.importorskip("httpx")
import httpx  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from dosewise.infer.denoise import default_model_path  # noqa: E402
from dosewise.serve.app import ServeSettings, create_app  # noqa: E402
from dosewise.workflows.denoise import make_denoiser  # noqa: E402


def _tiff_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array)
    return buffer.getvalue()


@pytest.fixture
def served(tmp_path: Path) -> tuple[TestClient, Path, Path]:
    root, out = tmp_path / "data", tmp_path / "out"
    root.mkdir()
    rng = np.random.default_rng(0)
    tifffile.imwrite(root / "stack.tif", rng.poisson(20.0, (6, 64, 64)).astype(np.float32))  # 3 would be RGB
    (tmp_path / "secret.tif").write_bytes(_tiff_bytes(np.ones((8, 8), np.float32)))
    (root / "escape").symlink_to(tmp_path)  # a link that leads out of the served folder
    app = create_app(ServeSettings(roots=[root], out_dir=out, max_upload_mb=1.0, device="cpu",
                                   event_interval_s=0.02, live_watch_s=0.0))
    with TestClient(app) as client:
        yield client, root, out


def test_the_page_loads_and_lists_the_shipped_models(served: tuple[TestClient, Path, Path]) -> None:
    client, root, _ = served
    page = client.get("/")
    assert page.status_code == 200 and "dosewise live" in page.text and "/v1/live/events" in page.text
    models = client.get("/v1/models").json()
    assert {"denoise-default", "segment-particles", "supersample-default"} <= {m["name"] for m in models["models"]}
    assert models["roots"] == [str(root.resolve())]


def test_denoise_returns_what_the_denoiser_gives(served: tuple[TestClient, Path, Path]) -> None:
    client, _, _ = served
    image = np.random.default_rng(1).poisson(10.0, (48, 56)).astype(np.float32)
    response = client.post("/v1/denoise", files={"file": ("frame.tif", _tiff_bytes(image), "image/tiff")})
    assert response.status_code == 200 and response.headers["content-type"] == "image/tiff"
    restored = tifffile.imread(io.BytesIO(response.content))
    denoiser, _ = make_denoiser(default_model_path(), device="cpu")
    np.testing.assert_allclose(restored, denoiser(image), rtol=1e-5, atol=1e-5)
    summary = client.post("/v1/denoise?format=json", files={"file": ("f.npy", _npy(image))}).json()
    assert summary["shape"] == [48, 56] and summary["min"] == pytest.approx(float(restored.min()), rel=1e-5)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_segment_and_supersample(served: tuple[TestClient, Path, Path]) -> None:
    client, _, _ = served
    yy, xx = np.mgrid[:96, :96]
    field = np.where((yy - 48) ** 2 + (xx - 40) ** 2 < 15 ** 2, 0.4, 1.0).astype(np.float32) * 200
    mask = tifffile.imread(io.BytesIO(client.post("/v1/segment", files={"file": ("p.tif", _tiff_bytes(field))}).content))
    assert mask.shape == field.shape and set(np.unique(mask)) <= {0, 1}
    report = client.post("/v1/segment", data={"format": "json"}, files={"file": ("p.tif", _tiff_bytes(field))}).json()
    assert report["area_fraction"] == pytest.approx(float(mask.mean())) and isinstance(report["particles"], list)
    small = np.random.default_rng(2).random((16, 20)).astype(np.float32)
    filled = client.post("/v1/supersample", data={"coverage": "1/16"}, files={"file": ("s.tif", _tiff_bytes(small))})
    assert filled.status_code == 200 and tifffile.imread(io.BytesIO(filled.content)).shape == (64, 80)


@pytest.mark.parametrize(("name", "content", "status", "fragment"), [
    ("cut.tif", _tiff_bytes(np.ones((3, 128, 128), np.float32))[:30000], 400, "truncated or damaged TIFF"),
    ("notes.txt", b"hello", 415, "unknown file type '.txt'"),
    ("big.npy", b"\x93NUMPY" + b"0" * (2 * 2**20), 413, "over the limit"),
])
def test_bad_uploads_get_4xx_with_the_one_line_message(served: tuple[TestClient, Path, Path], name: str,
                                                       content: bytes, status: int, fragment: str) -> None:
    client, _, _ = served
    response = client.post("/v1/denoise", files={"file": (name, content)})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert fragment in error and "\n" not in error


def test_missing_coverage_and_unknown_model_are_400(served: tuple[TestClient, Path, Path]) -> None:
    client, _, _ = served
    image = _tiff_bytes(np.ones((16, 16), np.float32))
    assert "coverage" in client.post("/v1/supersample", files={"file": ("s.tif", image)}).json()["error"]
    response = client.post("/v1/denoise", data={"model": "segment-particles"}, files={"file": ("s.tif", image)})
    assert response.status_code == 400 and "unknown denoise model 'segment-particles'" in response.json()["error"]


@pytest.mark.parametrize("source", ["../secret.tif", "/etc/passwd", "escape/secret.tif", "data/../../secret.tif"])
def test_no_path_outside_the_served_folders_is_read(served: tuple[TestClient, Path, Path], source: str) -> None:
    client, _, out = served
    response = client.post("/v1/live/start", json={"source": source})
    assert response.status_code == 403, response.text
    assert "outside the folders this server serves" in response.json()["error"]
    model = client.post("/v1/denoise", data={"model": source},
                        files={"file": ("a.tif", _tiff_bytes(np.ones((16, 16), np.float32)))})
    assert model.status_code == 403
    assert not out.exists()


def test_a_live_session_streams_raw_and_restored_frames_and_writes_them(served: tuple[TestClient, Path, Path]) -> None:
    client, _, out = served
    started = client.post("/v1/live/start", json={"source": "stack.tif", "model": "denoise-default"})
    assert started.status_code == 200, started.text
    frames, end = [], None
    with client.stream("GET", "/v1/live/events") as events:
        kind = None
        for line in events.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                payload = json.loads(line.removeprefix("data: "))
                if kind == "frame":
                    frames.append(payload)
                else:
                    end = payload
                    break
    assert frames and frames[-1]["raw"].startswith("data:image/png;base64,") and frames[-1]["restored"]
    assert frames[-1]["shape"] == [64, 64] and frames[-1]["mean_counts_per_px"] == pytest.approx(20, rel=0.1)
    assert end is not None and end["frames"] == 6 and end["error"] is None
    assert sorted(p.name for p in (out / "stack").iterdir()) == [f"frame_{i:06d}.tif" for i in range(6)]
    profile = client.post("/v1/profile", json={"start": [5, 32], "end": [60, 32], "width": 3})
    assert profile.status_code == 200 and len(profile.json()["values"]) >= 55


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="RSS from /proc")
def test_a_bounded_loopback_load_has_no_errors_and_no_leak(tmp_path: Path) -> None:
    import uvicorn

    root = tmp_path / "data"
    root.mkdir()
    app = create_app(ServeSettings(roots=[root], out_dir=tmp_path / "out", device="cpu"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    image = _tiff_bytes(np.random.default_rng(3).poisson(10.0, (64, 64)).astype(np.float32))

    async def load(requests: int, clients: int) -> list[int]:
        limit = asyncio.Semaphore(clients)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            async def one() -> int:
                async with limit:
                    return (await client.post("/v1/denoise", files={"file": ("f.tif", image)})).status_code
            return await asyncio.gather(*(one() for _ in range(requests)))

    try:
        assert set(asyncio.run(load(64, 32))) == {200}  # warm: the model is loaded, buffers allocated
        before = _rss_bytes()
        statuses = asyncio.run(load(400, 32))
        after = _rss_bytes()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert statuses.count(200) == 400
    assert after <= 1.10 * before, (before, after)
