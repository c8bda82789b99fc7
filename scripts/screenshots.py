"""Screenshots of every page of the web UI, desktop (1280 px) and phone (390 px), light and dark.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only library,upload]

Builds the demo's data in a temporary directory (embedded PostgreSQL, the bundled synthetic
household, the lexical embedder: fully offline), adds an upload with a broken file (so the
upload and ingest-health pages show a failure with its reason), a logged answer (so a document
shows what cited it), a stored two-turn conversation and a monthly report; serves the app on a free loopback port and captures each page with headless
Chromium (a cited PDF page once pdf.js has marked it). The login page is captured last, after a
user is added (from then on every other page asks for a login). PNGs are reduced to a
256-colour palette (UI screenshots stay sharp at a fraction of the size) and cut at MAX_HEIGHT
pixels.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
MAX_HEIGHT = 3200


def prepare(data_dir: Path) -> tuple[Any, dict[str, str]]:
    """The demo household indexed, plus the extras the pages show; the pages to capture."""
    from app.core.config import load_settings
    from app.services import library, report, uploads
    from app.services.jobs import wait_for_jobs
    from app.services.runtime import build_runtime
    from app.services.sync import sample_source, sync

    settings = load_settings(data_dir=data_dir, database_url=None, embedder="lexical-hash",
                             _env_file=None)
    rt = build_runtime(settings)
    result = sync(rt, [sample_source()], trigger="demo")
    assert result.completed, result.to_json()
    batch = uploads.new_batch(rt)
    for name, body in (("letters/dentist-appointment.txt",
                        b"Dentist appointment on 14 January 2027 at 9:30, Praxis Dr. Zahn.\n"),
                       ("scans/broken-scan.pdf", b"%PDF-1.7\nthis file was cut off\n")):
        writer = uploads.begin_upload(rt, batch, name)
        writer.write(body)
        uploads.record_saved(batch, writer.commit())
    uploads.ingest_batch(rt, batch)
    wait_for_jobs(rt)
    from app.services.ask import ask_turn

    gym, _, _ = ask_turn(rt, "When can I cancel the gym membership?", origin="web")
    report.build_report(rt, month="2026-10")

    money_q = "How much did I spend at Rewe in September 2026?"
    rewe, _, stored = ask_turn(rt, money_q, origin="web")
    ask_turn(rt, "and in October 2026?", conversation_id=stored["id"], origin="web")
    row_url = next(c.url for c in rewe.citations if c.citable.kind == "transaction")
    pdf_url = next(c.url for c in gym.citations if (c.citable.path or "").endswith(".pdf"))
    tx_id, evidence_doc = evidence_example(rt)
    docs = library.list_documents(rt, library.make_filter(kind="contract")).documents
    from app.services.contracts import list_contracts

    contract = list_contracts(rt)[0].contract.id
    pages = {
        "ask": "/?q=When+can+I+cancel+the+gym+membership%3F",
        "search": "/search?q=notice+period",
        "library": "/library",
        "library-document": f"/library/{docs[0]['id']}",
        "upload": f"/upload?batch={batch.id}",
        "sources": "/sources",
        "health": "/health",
        "transactions": "/transactions?period=2026-10",
        "rules": "/rules",
        "money": "/reports?q=How+much+did+I+spend+on+groceries+in+October+2026%3F",
        "report-month": "/reports/period?month=2026-10",
        "report-empty": "/reports/period?month=2026-12",
        "contracts": "/contracts",
        "contract": f"/contracts/{contract}",
        "document-citation": pdf_url,
        "statement-row": row_url,
        "conversation": f"/?c={stored['id']}",
        "conversations": "/conversations",
        "transaction-evidence": f"/reports/transactions/{tx_id}",
        "document-evidence": f"/documents/{evidence_doc}",
        "stats": "/stats",
    }
    return rt, pages


def evidence_example(rt: Any) -> tuple[int, int]:
    """(transaction, document) of the best evidence link of the demo (its electricity bill)."""
    from sqlalchemy import select

    from app.core.models import Evidence

    with rt.db.session() as s:
        best = s.execute(select(Evidence.transaction_id, Evidence.document_id)
                         .order_by(Evidence.score.desc(), Evidence.id)).first()
    if best is None:
        raise SystemExit("the demo household has no evidence link to show")
    return best[0], best[1]


def serve(rt: Any) -> tuple[str, Any, threading.Thread]:
    import uvicorn

    from app.http.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=rt), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("uvicorn did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def shrink(path: Path) -> None:
    """Cut at MAX_HEIGHT and store as a 256-colour palette PNG."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        if img.height > MAX_HEIGHT:
            img = img.crop((0, 0, img.width, MAX_HEIGHT))
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def capture(base: str, pages: dict[str, str], out: Path, rt: Any = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for scheme in ("light", "dark"):
            for device, (width, height) in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": height},
                                        color_scheme=scheme, device_scale_factor=1)
                for name, path in pages.items():
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    if name == "ask":  # Enter in the question box asks (no click)
                        page.press("#question", "Enter")
                        page.wait_for_selector("#answer-text", timeout=20_000)
                        page.wait_for_load_state("networkidle")
                        asked = page.input_value("#conversation-id")
                    if page.locator("#pdf-view").count():  # pdf.js renders, then marks
                        page.wait_for_selector("#pdf-view[data-marked]", timeout=20_000)
                    if "#" in path:  # a citation: the page as it lands, scrolled to the mark
                        page.wait_for_timeout(300)
                    target = out / f"{name}-{device}-{scheme}.png"
                    page.screenshot(path=str(target), full_page="#" not in path)
                    shrink(target)
                    written.append(target)
                    if name == "ask" and rt is not None and asked.isdigit():
                        # One conversation per capture otherwise: /conversations stays as
                        # prepared whichever pages come after.
                        from app.services.conversations import delete_conversation

                        delete_conversation(rt, int(asked))
                page.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", default="", help="comma-separated page names")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hr-shots-") as tmp:
        rt, pages = prepare(Path(tmp) / "data")
        if args.only:
            pages = {k: v for k, v in pages.items() if k in args.only.split(",")}
        base, server, thread = serve(rt)
        try:
            written = capture(base, pages, args.out, rt)
            if not args.only or "login" in args.only.split(","):
                from app.services.users import add_user

                add_user(rt, "alex", "a long demo password")  # the app now asks for a login
                written += capture(base, {"login": "/login?next=%2F"}, args.out)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            rt.close()
    total = sum(p.stat().st_size for p in written)
    print(f"{len(written)} screenshots in {args.out} ({total / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
