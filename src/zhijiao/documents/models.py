"""Generated official documents (文书) and their number series."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from zhijiao.db.base import Base, IdMixin, UTCDateTime
from zhijiao.security.crypto import Encrypted, EncryptedBytes
from zhijiao.security.scoping import SubjectOwned


class Document(IdMixin, SubjectOwned, Base):
    """One generated PDF, numbered in its series, stored with its SHA-256.

    The bytes live in the database (deferred, so lists never load them): a document commits or
    rolls back with the event that produced it, and several servers behind a load balancer see
    the same files without shared storage.

    The document keeps the data it was made from (``render_context``, JSON, encrypted at rest like
    the other personal data) with the version of the templates and fonts (``template_version``), so
    a document made wrongly can be rendered again under the same number. Documents made before
    issue 19 have neither.
    """

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("bureau_id", "number", name="uq_documents_bureau_number"),
        Index("ix_documents_source", "source_type", "source_id"),
    )

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureaus.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(64), nullable=False)
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    doc_date: Mapped[date] = mapped_column(Date, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    pages: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[bytes] = deferred(mapped_column(EncryptedBytes, nullable=False))  # SM4 at rest (issue 20)
    source_type: Mapped[str] = mapped_column(String(32), nullable=False)
    source_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    render_context: Mapped[str | None] = deferred(mapped_column(Encrypted))
    template_version: Mapped[str | None] = mapped_column(String(16))
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DocumentCounter(Base):
    """The last number given in a series (bureau, prefix, year); bumped inside the writing transaction."""

    __tablename__ = "document_counters"
    __audited__ = False  # the numbers are audited with the documents that take them

    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureaus.id"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
