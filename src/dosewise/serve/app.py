"""``dosewise serve``: the page (raw | restored frames live, fps, latency, dose, a line profile)
and the JSON API beside it, as one Starlette app.

Safety: every path a request names (a live source, a checkpoint) must resolve inside one of the
folders the server was started with; outputs go only under its output folder. Uploads are read
from memory into a temporary file of their own suffix (so every format ``read_image`` knows
works) and are capped in size. A user mistake is HTTP 4xx with the command line's one-line
message as ``{"error": ...}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import tempfile
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from dosewise.errors import DosewiseError, InputFileError
from dosewise.io import SUPPORTED_SUFFIXES, read_image
from dosewise.serve.live import LiveSession
from dosewise.serve.models import ModelCache, denoise_array, segment_array, supersample_array
from dosewise.shipped import SHIPPED, find_shipped, shipped_checkpoint


@dataclass
class ServeSettings:
    """What a server may touch and how much it accepts."""

    roots: Sequence[Path]
    out_dir: Path
    max_upload_mb: float = 64.0
    device: str = "auto"
    event_interval_s: float = 0.1
    live_watch_s: float = 3600.0
    roots_resolved: list[Path] = field(init=False)

    def __post_init__(self) -> None:
        self.roots_resolved = [Path(root).resolve() for root in self.roots]
        for root in self.roots_resolved:
            if not root.is_dir():
                raise InputFileError("is not a folder the server can serve from", root)

    def inside_roots(self, text: str) -> Path:
        """``text`` as a path inside one of the roots (relative paths are taken from the first);
        anything outside, symlinks pointing out included, is refused."""
        candidate = Path(text)
        if not candidate.is_absolute():
            candidate = self.roots_resolved[0] / candidate
        resolved = candidate.resolve()
        if not any(resolved == root or root in resolved.parents for root in self.roots_resolved):
            raise PermissionError(f"{text}: outside the folders this server serves")
        if not resolved.exists():
            raise InputFileError("not found", text)
        return resolved


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _locked(lock: threading.Lock, work: Any, *args: Any) -> Any:
    """``work(*args)`` holding ``lock``, in a worker thread (never in the event loop, where waiting
    for the lock would stall the request that holds it)."""
    with lock:
        return work(*args)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status_code=status)


def create_app(settings: ServeSettings) -> Starlette:
    """The server's app: ``GET /`` the page, ``/v1/...`` the API (see the module docstring)."""
    models = ModelCache(settings.device)
    state: dict[str, LiveSession | None] = {"live": None}
    limit_bytes = int(settings.max_upload_mb * 2**20)

    async def upload(request: Request) -> tuple[np.ndarray, float | None, dict[str, Any]]:
        """The image of the multipart field ``file`` and the other form fields."""
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit_bytes:
            raise _Refused(413, f"upload of {int(length)} bytes is over the limit of {limit_bytes} bytes")
        form = await request.form(max_part_size=limit_bytes + 1)
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise _Refused(400, "send the image as the multipart field 'file'")
        name = Path(file.filename or "upload")
        suffix = name.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise _Refused(415, f"{name.name}: unknown file type {suffix or '(no suffix)'!r}; "
                                f"supported: {', '.join(SUPPORTED_SUFFIXES)}")
        content = await file.read()
        if len(content) > limit_bytes:
            raise _Refused(413, f"{name.name}: {len(content)} bytes is over the limit of {limit_bytes} bytes")
        with tempfile.TemporaryDirectory(prefix="dosewise-serve-") as folder:
            path = Path(folder) / f"upload{suffix}"
            path.write_bytes(content)
            try:
                image = await run_in_threadpool(read_image, path)
            except DosewiseError as error:
                raise _Refused(400, f"{name.name}: {error.problem}") from None
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        return image.data, image.pixel_size_A, fields

    def wants_json(request: Request, fields: dict[str, Any]) -> bool:
        return (fields.get("format") or request.query_params.get("format", "tiff")) == "json"

    def tiff(array: np.ndarray) -> Response:
        buffer = io.BytesIO()
        tifffile.imwrite(buffer, array)
        return Response(buffer.getvalue(), media_type="image/tiff")

    def model_file(task: str, fields: dict[str, Any]) -> Path:
        name = fields.get("model") or next(m.name for m in SHIPPED.values() if m.task == task)
        if name in SHIPPED or find_shipped(name, task) is not None:  # a shipped name of another task: 400
            return shipped_checkpoint(name, task)
        return settings.inside_roots(name)

    async def guarded(request: Request, work: Any) -> Response:
        try:
            return await work(request)
        except _Refused as refused:
            return _error(refused.status, str(refused))
        except PermissionError as error:
            return _error(403, str(error))
        except DosewiseError as error:
            return _error(404 if isinstance(error, InputFileError) and error.problem == "not found" else 400,
                          str(error))

    async def denoise(request: Request) -> Response:
        async def work(request: Request) -> Response:
            data, _, fields = await upload(request)
            denoiser, lock = models.get("denoise", model_file("denoise", fields), fields.get("backend", "torch"))
            result = await run_in_threadpool(_locked, lock, denoise_array, denoiser, data)
            if wants_json(request, fields):
                return JSONResponse({"shape": list(result.shape), "min": float(result.min()),
                                     "max": float(result.max()), "mean": float(result.mean())})
            return tiff(result)
        return await guarded(request, work)

    async def segment(request: Request) -> Response:
        async def work(request: Request) -> Response:
            data, pixel_size_A, fields = await upload(request)
            model, lock = models.get("segment", model_file("segment", fields))
            mask, report = await run_in_threadpool(_locked, lock, segment_array, model, data, pixel_size_A,
                                                   settings.device)
            return JSONResponse(report) if wants_json(request, fields) else tiff(mask)
        return await guarded(request, work)

    async def supersample(request: Request) -> Response:
        async def work(request: Request) -> Response:
            data, _, fields = await upload(request)
            if "coverage" not in fields:
                raise _Refused(400, "give the coverage of the small scan, e.g. coverage=1/16")
            model, lock = models.get("supersample", model_file("supersample", fields))
            filled, report = await run_in_threadpool(_locked, lock, supersample_array, model, data,
                                                     fields["coverage"])
            return JSONResponse({**report, "shape": list(filled.shape)}) if wants_json(request, fields) \
                else tiff(filled)
        return await guarded(request, work)

    async def live_start(request: Request) -> Response:
        async def work(request: Request) -> Response:
            try:
                body = await request.json()
            except ValueError:
                raise _Refused(400, "send a JSON object {\"source\": ..., \"model\": ..., \"backend\": ...}") from None
            if not isinstance(body, dict) or not isinstance(body.get("source"), str):
                raise _Refused(400, "give the folder or stack to restore as \"source\"")
            source = settings.inside_roots(body["source"])
            backend = body.get("backend", "torch")
            if backend not in ("torch", "onnx"):
                raise _Refused(400, f"backend must be torch or onnx, got {backend!r}")
            denoiser, _ = models.get("denoise", model_file("denoise", body), backend)
            previous = state["live"]
            if previous is not None:
                await run_in_threadpool(previous.stop)
            out = settings.out_dir / (source.stem or "live")
            session = LiveSession(source, out, denoiser, watch_s=settings.live_watch_s)
            await run_in_threadpool(session.start)
            state["live"] = session
            return JSONResponse({"source": str(source), "out": str(out), "backend": backend})
        return await guarded(request, work)

    async def live_stop(request: Request) -> Response:
        session = state["live"]
        if session is not None:
            await run_in_threadpool(session.stop)
        return JSONResponse({"stopped": session is not None})

    async def live_events(request: Request) -> Response:
        """Server-sent events: one per new frame, then one when the session ends."""
        async def events() -> AsyncIterator[str]:
            sent = -1
            while True:
                session = state["live"]
                if session is not None and session.latest is not None and session.latest.index != sent:
                    frame = session.latest
                    sent = frame.index
                    payload = await run_in_threadpool(frame.event, session.report)
                    yield f"event: frame\ndata: {json.dumps(payload)}\n\n"
                elif session is not None and not session.running and (session.latest is None
                                                                       or session.latest.index == sent):
                    yield f"event: end\ndata: {json.dumps({'error': session.error, **session.report.summary()})}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(settings.event_interval_s)
        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def profile(request: Request) -> Response:
        """The line profile A->B of the newest restored frame (``dosewise profile``'s analysis)."""
        async def work(request: Request) -> Response:
            from dosewise.analysis import analyse_profile, line_profile

            session = state["live"]
            if session is None or session.latest is None:
                raise _Refused(409, "no frame yet: start a live session first")
            try:
                body = await request.json()
                start, end = (tuple(float(v) for v in body[key]) for key in ("start", "end"))
                width = int(body.get("width", 1))
            except (ValueError, KeyError, TypeError):
                raise _Refused(400, "send {\"start\": [x, y], \"end\": [x, y], \"width\": px}") from None
            frame = session.latest
            result = line_profile(frame.restored, start, end, width_px=width, pixel_size_A=frame.pixel_size_A)
            report: dict[str, Any] = {"frame": frame.index, "distance_px": result.distance_px.tolist(),
                                      "values": result.values.tolist(), "pixel_size_A": frame.pixel_size_A}
            try:
                report["analysis"] = analyse_profile(result).to_dict()
            except DosewiseError as error:
                report["analysis"] = {"error": error.problem}
            return JSONResponse(report)
        return await guarded(request, work)

    async def models_list(request: Request) -> Response:
        return JSONResponse({"models": [{"name": m.name, "task": m.task} for m in SHIPPED.values()],
                             "backends": ["torch", "onnx"], "roots": [str(r) for r in settings.roots_resolved]})

    async def page(request: Request) -> Response:
        return HTMLResponse(resources.files("dosewise.serve").joinpath("page.html").read_text(encoding="utf-8"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if state["live"] is not None:  # a live session's thread ends with the server
            state["live"].stop()

    return Starlette(lifespan=lifespan, routes=[
        Route("/", page),
        Route("/v1/models", models_list),
        Route("/v1/denoise", denoise, methods=["POST"]),
        Route("/v1/segment", segment, methods=["POST"]),
        Route("/v1/supersample", supersample, methods=["POST"]),
        Route("/v1/live/start", live_start, methods=["POST"]),
        Route("/v1/live/stop", live_stop, methods=["POST"]),
        Route("/v1/live/events", live_events),
        Route("/v1/profile", profile, methods=["POST"]),
    ])
