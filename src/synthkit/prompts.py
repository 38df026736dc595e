"""Prompt templates: files under prompts/<task type>/ with {{named}} variables, checked when loaded, hashed for provenance.

A template's text before the line `<!-- user -->` is the system message, the rest the user message
(no marker: one user message). Variables are written `{{name}}`; a template must use exactly the
variables its caller supplies, so a renamed or forgotten variable stops the stage before any request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from synthkit.errors import InputError

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
USER_MARKER = "<!-- user -->"


@dataclass(frozen=True)
class Prompt:
    """One loaded template: its file, text, the variables it uses and the sha256 of its text."""

    name: str
    path: str
    text: str
    variables: frozenset[str]
    sha256: str

    @property
    def short_hash(self) -> str:
        return self.sha256[:16]

    def render_text(self, values: dict[str, object]) -> str:
        """The template with every {{variable}} replaced; supplied and used variables must match exactly."""
        check_variables(self.path, self.variables, values.keys())
        return VARIABLE.sub(lambda m: str(values[m.group(1)]), self.text)

    def messages(self, values: dict[str, object]) -> list[dict]:
        """OpenAI chat messages: system (text before the user marker, if any) and user."""
        rendered = self.render_text(values)
        if USER_MARKER in rendered:
            system, user = rendered.split(USER_MARKER, 1)
            return [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]
        return [{"role": "user", "content": rendered.strip()}]


def check_variables(path: str, used: Iterable[str], supplied: Iterable[str]) -> None:
    """InputError naming the file and the variable when a template uses one not supplied, or one supplied is unused."""
    used, supplied = set(used), set(supplied)
    missing = sorted(used - supplied)
    if missing:
        raise InputError(path, "template uses a variable the caller does not supply", field=missing[0])
    unused = sorted(supplied - used)
    if unused:
        raise InputError(path, "template does not use a variable the caller supplies", field=unused[0])


def load_prompt(prompts_dir: str | Path, task_type: str, name: str, variables: Iterable[str]) -> Prompt:
    """Load prompts/<task_type>/<name>.md and check its variables against the ones the caller will supply."""
    path = Path(prompts_dir) / task_type / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), "prompt template not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read prompt template ({exc.__class__.__name__})") from None
    if not text.strip():
        raise InputError(str(path), "prompt template is empty")
    used = frozenset(VARIABLE.findall(text))
    check_variables(str(path), used, variables)
    return Prompt(name=name, path=path.as_posix(), text=text, variables=used, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def chain_hash(*prompts: Prompt) -> str:
    """The provenance hash of a row made through several prompts (16 hex digits, like template hashes)."""
    return hashlib.sha256("\x1f".join(p.sha256 for p in prompts).encode("ascii")).hexdigest()[:16]


def prompt_hashes(prompts_dir: str | Path, task_type: str) -> dict[str, str]:
    """sha256 of every template of a task type (prompts_dir/<type>/*.md), keyed by <type>/<name>.md (for the manifest)."""
    root = Path(prompts_dir)
    folder = root / task_type
    if not folder.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.md"))}


# How each channel reads, as every generator's prompts describe it.
CHANNEL_STYLE = {
    "chat": "a live-chat message",
    "email": "an email: a 'Subject:' line, then the body",
    "ticket_subject": "only the subject line of a support ticket, under 12 words",
    "call_transcript": "a phone-call transcript with 'Agent:' and 'Customer:' turns",
    "pasted_notes": "notes pasted into the ticket: fragments, bullet points, timestamps",
}
LABEL_BLOCK_VARIABLES = {"name", "definition", "rules", "near_miss"}


def load_label_block(prompts_dir: str | Path, task_type: str) -> Prompt:
    """prompts/<type>/labels.md: how one label's definition, rules and near misses are shown to a model."""
    return load_prompt(prompts_dir, task_type, "labels", LABEL_BLOCK_VARIABLES)


def label_text(spec, name: str, block: Prompt) -> str:
    """One label's definition, rules and near misses rendered through the label block."""
    lab = next(lab for lab in spec.labels if lab.name == name)
    return block.render_text(
        {
            "name": lab.name, "definition": lab.definition,
            "rules": "\n".join(f"- {r}" for r in lab.rules) or "- (no extra rules)",
            "near_miss": ", ".join(lab.near_miss) or "none",
        }
    )


def labels_text(spec, block: Prompt) -> str:
    """Every label of the spec rendered through the label block."""
    return "\n".join(label_text(spec, name, block) for name in spec.label_names)
