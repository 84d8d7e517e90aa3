"""FAQ accordions: questions and their answers, read in order, a collapsed answer included.

Recognised: <details>/<summary>, schema.org Question microdata, aria-controls toggles,
question/answer pairs inside an element classed faq/accordion/toggle, and the questions a JSON-LD
FAQPage names (its answers are read from JSON-LD when the page's HTML does not show them)."""

from __future__ import annotations

from collections.abc import Iterable

from listen.extract.chrome import is_hidden
from listen.extract.marks import MARK
from listen.extract.model import Block, Section
from listen.extract.text import HEADING_TAGS, Element, class_words, element_text, norm

FAQ_CONTAINER_WORDS = {"faq", "faqs", "accordion", "accordions", "toggle", "toggles",
                       "question", "questions", "qa", "qanda"}  # fmt: skip
FAQ_QUESTION_WORDS = {"question", "title", "heading", "header", "head", "toggle", "trigger",
                      "button", "summary", "label", "q"}  # fmt: skip
FAQ_ANSWER_WORDS = {"answer", "content", "body", "panel", "collapse", "collapsible", "text",
                    "desc", "description", "details", "inner", "a"}  # fmt: skip
FAQ_SECTION_TITLE = "Frequently asked questions"
ANSWER_PROPS = ("acceptedAnswer", "suggestedAnswer")


def _is_faq_container(el: Element) -> bool:
    return not FAQ_CONTAINER_WORDS.isdisjoint(class_words(el))


def looks_like_question(el: Element) -> bool:
    return (
        el.tag in (*HEADING_TAGS, "button", "summary", "dt")
        or not FAQ_QUESTION_WORDS.isdisjoint(class_words(el))
        or el.get("aria-expanded") is not None
        or el.get("aria-controls") is not None
        or element_text(el).endswith("?")
    )


def _mark_question(el: Element) -> None:
    for button in [el] if el.tag == "button" else list(el.iter("button")):
        button.tag = "span"  # an accordion's question is often its toggle button...
        button.set(MARK, "keep")  # ...whose "accordion-button" class is no reason to drop it
    el.set(MARK, "question")


def _mark_answer(el: Element) -> None:
    el.set(MARK, "answer")


def mark_faq(
    root: Element, faq: Iterable[tuple[str, str]] = (), elements: list[Element] | None = None
) -> None:
    """Mark question and answer, so that a collapsed answer (hidden, aria-hidden, display:none)
    is read, right after its question. `elements`: those of `root`, when listed already."""
    elements = elements if elements is not None else list(root.iter())
    for details in [el for el in elements if el.tag == "details"]:
        summary = next(details.iter("summary"), None)
        if summary is not None:
            _mark_question(summary)
        _mark_answer(details)
    for item in [el for el in elements if el.get("itemtype")]:
        if "schema.org/question" not in (item.get("itemtype") or "").lower():
            continue
        name = next((el for el in item.iterdescendants() if el.get("itemprop") == "name"), None)
        answer = next((el for el in item.iterdescendants() if el.get("itemprop") in ANSWER_PROPS),
                      None)  # fmt: skip
        if name is not None and answer is not None:
            _mark_question(name)
            _mark_answer(answer)
    toggles = [el for el in elements if el.get("aria-controls")]
    ids = {el.get("id"): el for el in elements if el.get("id")} if toggles else {}
    for toggle in toggles:
        target = ids.get(next(iter((toggle.get("aria-controls") or "").split()), ""))
        in_faq = any(_is_faq_container(a) for a in toggle.iterancestors())
        if target is not None and (in_faq or element_text(toggle).endswith("?")):
            question = next(toggle.iterancestors(*HEADING_TAGS), None)
            if question is None:
                question = toggle
            _mark_question(question)
            _mark_answer(target)
    for container in [el for el in elements if _is_faq_container(el)]:
        for el in container.iter():
            if el is container or el.get(MARK):
                continue
            previous = el.getprevious()
            if previous is None or previous.get(MARK) == "answer":
                continue
            found = class_words(el)
            if ("answer" in found or not FAQ_ANSWER_WORDS.isdisjoint(found) or is_hidden(el)) and (
                looks_like_question(previous)
            ):
                _mark_question(previous)
                _mark_answer(el)
    questions = {norm(q) for q, _ in faq}
    if questions:
        _mark_json_ld_questions(elements, questions)


def _mark_json_ld_questions(elements: list[Element], questions: set[str]) -> None:
    """Find the questions a JSON-LD FAQPage names among the page's elements: the innermost
    element holding one is the question, the element after it (or after its wrapper) the
    answer."""
    for el in elements:
        if el.get(MARK) or norm(element_text(el)) not in questions:
            continue
        if any(norm(element_text(child)) in questions for child in el.iterdescendants()):
            continue  # the innermost element holding the question
        node, answer = el, None
        for _ in range(3):  # the answer follows the question, or the question's wrapper
            answer = node.getnext()
            if answer is not None or node.getparent() is None:
                break
            node = node.getparent()
        _mark_question(el)
        if answer is not None:
            _mark_answer(answer)


def with_json_ld_faq(
    sections: tuple[Section, ...], faq: Iterable[tuple[str, str]]
) -> tuple[Section, ...]:
    """A JSON-LD FAQPage whose questions the page's HTML does not show (rendered by script):
    read from the JSON-LD, question then answer, as a last chapter."""
    faq = list(faq)
    read = {norm(b.text) for s in sections for b in s.blocks}
    read |= {norm(s.heading) for s in sections if s.heading}
    if not faq or any(norm(q) in read for q, _ in faq):
        return sections
    blocks = [
        Block(text=text, kind=kind)
        for question, answer in faq
        for text, kind in ((question, "subheading"), (answer, "paragraph"))
    ]
    return (*sections, Section(heading=FAQ_SECTION_TITLE, blocks=tuple(blocks)))
