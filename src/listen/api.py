"""`listen api`: the HTTP API a CMS calls on publish, edit and unpublish (FastAPI on uvicorn).

    POST   /v1/episodes          {"url": ...} or {"html": ..., "url": ...}  -> 202 a job
    GET    /v1/jobs/{id}         queued | running | done | failed, the reason, the URLs
    GET    /v1/episodes          a page of published episodes, newest first
    GET    /v1/episodes/{slug}   one episode: its files' URLs, duration, chapters
    DELETE /v1/episodes/{slug}   unpublish: files removed, feeds and playlist rebuilt -> 204
    GET    /healthz              (no token needed)
    GET    /docs                 OpenAPI, served from the package (no CDN)

FastAPI, not bare Starlette: the OpenAPI document and its docs page come from the same
declarations that validate requests, so they cannot drift apart; it is Starlette underneath
(the middleware below is plain ASGI). Everything the routes do is in `listen.service`.

Every error is JSON `{"error": "..."}` with its status; a traceback goes to the log only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from listen import __version__
from listen.config import SiteConfig
from listen.errors import ListenError
from listen.service import (
    MAX_BODY_BYTES,
    SLUG_PATTERN,
    ApiError,
    EpisodeRequest,
    EpisodeService,
    load_token_hashes,
    token_allowed,
)

log = logging.getLogger("listen.api")
#: (At module level: the routes' annotations are read in this module's namespace.)
bearer = HTTPBearer(auto_error=False, description="A token of [api] tokens_file or "
                    "$LISTEN_API_TOKENS")  # fmt: skip


# --- what the OpenAPI document shows -------------------------------------------------------


class EpisodePost(BaseModel):
    """A page to make (or re-make) an episode of: by URL, or its HTML with its canonical URL."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=4096, description=(
        "The article's URL. Alone: the page is fetched from it. With `html`: the article's "
        "canonical URL (the feed item's link, and where the slug comes from)."))  # fmt: skip
    html: str | None = Field(None, description="The article page's HTML, treated as the page "
                             "(untrusted, never fetched further).")  # fmt: skip
    voice: str | None = Field(None, max_length=200, description="A voice preset (default: the "
                              "site's, or the one for the page's language).")  # fmt: skip
    slug: str | None = Field(None, pattern=f"^{SLUG_PATTERN}$", max_length=80,
                             description="The episode's name (default: from the URL's path).")
    format: Literal["mp3", "m4a"] | None = None
    force: bool = Field(False, description="Render even if this HTML was rendered last time.")


class JobOut(BaseModel):
    job: str
    slug: str
    status: Literal["queued", "running", "done", "failed"]
    reason: str | None = Field(None, description="Why it failed.")
    urls: dict[str, str] | None = Field(None, description="The episode's files, when done.")
    created: str
    started: str | None = None
    finished: str | None = None
    synthesized: int | None = Field(None, description="Takes synthesized by this job.")
    cached: int | None = Field(None, description="Takes found in the cache.")
    unchanged: bool | None = Field(None, description="Nothing had changed: nothing was written.")


class EpisodeOut(BaseModel):
    slug: str
    title: str
    url: str | None
    published: str | None
    added: str | None
    language: str
    voice: str
    duration_ms: int
    format: str
    urls: dict[str, str]
    byline: str | None = None
    summary: str | None = None
    chapters: list[dict[str, Any]] | None = None
    sentences: int | None = None


class EpisodePage(BaseModel):
    episodes: list[EpisodeOut]
    total: int
    offset: int
    limit: int
    next_offset: int | None


class ErrorOut(BaseModel):
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 404, 409, 413, 422, 503)
}


# --- limits and errors ---------------------------------------------------------------------


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413: at once when Content-Length says
    so, else as soon as the body read so far is over it (chunked uploads)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared and (not declared.isdigit() or int(declared) > self.limit):
            response = _error(413, f"request body too large (limit {self.limit} bytes)")
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise ApiError(413, f"request body too large (limit {self.limit} bytes)")
            return message

        await self.app(scope, limited, send)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", ""))
    return "; ".join(parts) or "invalid request"


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, str(exc), headers)

    @app.exception_handler(ListenError)
    async def listen_error(request: Request, exc: ListenError) -> JSONResponse:
        return _error(503, str(exc))

    for broker_error in _broker_errors():
        app.add_exception_handler(broker_error, _broker_down)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail).lower() if exc.detail else "error")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(list(exc.errors())))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s: internal error", request.method, request.url.path)
        return _error(500, "internal error (see the API's log)")


def _broker_errors() -> list[type[Exception]]:
    """Redis' and kombu's connection errors, when the queue is installed."""
    try:
        from kombu.exceptions import OperationalError
        from redis import RedisError
    except ImportError:
        return []
    return [RedisError, OperationalError]


async def _broker_down(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: the broker: %s", request.method, request.url.path, exc)
    return _error(503, f"the broker is not answering ({type(exc).__name__}); try again later")


# --- the app --------------------------------------------------------------------------------


def create_app(service: EpisodeService, config: SiteConfig) -> FastAPI:
    """The ASGI app over `service`; its backend runs for the app's lifespan."""
    hashes = load_token_hashes(config)

    def authorized(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                   ) -> None:  # fmt: skip
        if credentials is None:
            raise ApiError(401, "missing bearer token (Authorization: Bearer <token>)")
        if not token_allowed(credentials.credentials, hashes):
            raise ApiError(401, "invalid token")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.backend.start()
        log.info("jobs: %s", service.backend.describe())
        try:
            yield
        finally:
            service.backend.stop()

    app = FastAPIOffline(title="listen", version=__version__, lifespan=lifespan,
                         redoc_url=None, description=(
                             "Audio editions of articles for CMSs: post a page on publish and "
                             "on every edit, poll the job or take the signed webhook, delete "
                             "to unpublish."))  # fmt: skip
    app.add_middleware(BodyLimit)
    _install_errors(app)
    guarded = [Depends(authorized)]

    @app.get("/healthz", tags=["service"], summary="Liveness (no token needed)")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/episodes", tags=["episodes"], dependencies=guarded, status_code=202,
              summary="Make or re-make an episode of a page",
              responses={202: {"model": JobOut, "description": "Queued"},
                         200: {"model": JobOut, "description": "Unchanged since the last "
                               "render: nothing to do"}, **ERRORS},
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": EpisodePost.model_json_schema()}}}})  # fmt: skip
    async def post_episode(request: Request) -> JSONResponse:
        post = _parse(await request.body(), request.headers.get("content-type", ""))
        job, queued = await _threaded(service.submit, EpisodeRequest(**post.model_dump()))
        return JSONResponse(job.public(), status_code=202 if queued else 200,
                            headers={"Location": f"/v1/jobs/{job.id}"})  # fmt: skip

    @app.get("/v1/jobs/{job_id}", tags=["jobs"], dependencies=guarded, summary="A job's state",
             responses={200: {"model": JobOut}, **ERRORS})  # fmt: skip
    def get_job(job_id: str) -> JSONResponse:
        return JSONResponse(service.job(job_id).public())

    @app.get("/v1/episodes", tags=["episodes"], dependencies=guarded,
             summary="Published episodes, newest first",
             responses={200: {"model": EpisodePage}, **ERRORS})  # fmt: skip
    def list_episodes(limit: Annotated[int, Query(ge=1, le=200)] = 20,
                      offset: Annotated[int, Query(ge=0)] = 0) -> JSONResponse:  # fmt: skip
        return JSONResponse(service.episodes(limit, offset))

    @app.get("/v1/episodes/{slug}", tags=["episodes"], dependencies=guarded,
             summary="A published episode", responses={200: {"model": EpisodeOut}, **ERRORS})
    def get_episode(slug: str) -> JSONResponse:
        return JSONResponse(service.episode(slug))

    @app.delete("/v1/episodes/{slug}", tags=["episodes"], dependencies=guarded,
                status_code=204, summary="Unpublish an episode",
                responses=ERRORS)  # fmt: skip
    def delete_episode(slug: str) -> Response:
        service.remove(slug)
        return Response(status_code=204)

    return app


def _parse(body: bytes, content_type: str) -> EpisodePost:
    if content_type.split(";", 1)[0].strip().lower() not in ("application/json", ""):
        raise ApiError(415, f"send JSON (Content-Type: application/json), not {content_type}")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    try:
        return EpisodePost.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, _validation_message(list(exc.errors()))) from None


async def _threaded(function, *args):  # type: ignore[no-untyped-def]
    """Run blocking work (DNS, disk, the broker) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)


def run(out: Path, config: SiteConfig, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the API until SIGINT or SIGTERM (uvicorn's graceful shutdown stops the jobs)."""
    import uvicorn

    service = EpisodeService(out, config)
    app = create_app(service, config)
    print(f"listen api on http://{host}:{port}/ (docs at /docs), publishing to {out}; "
          f"{service.backend.describe()}", flush=True)  # fmt: skip
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True,
                server_header=False)  # fmt: skip


__all__ = ["create_app", "run"]
