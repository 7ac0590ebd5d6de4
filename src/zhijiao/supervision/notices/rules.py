"""Who must be told what, and on which article: the checklists of release and termination
(社区矫正法 第四十四条、第四十五条) and of a transfer (第二十七条). Pure code: no database."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Body(enum.StrEnum):
    subject = "subject"
    deciding_organ = "deciding_organ"
    court = "court"
    procuratorate = "procuratorate"
    public_security = "public_security"
    new_bureau = "new_bureau"
    bureau = "bureau"


BODY_LABELS: dict[Body, str] = {
    Body.subject: "社区矫正对象",
    Body.deciding_organ: "社区矫正决定机关",
    Body.court: "人民法院",
    Body.procuratorate: "所在地人民检察院",
    Body.public_security: "所在地公安机关",
    Body.new_bureau: "变更后的社区矫正机构",
    Body.bureau: "社区矫正机构",
}


@dataclass(frozen=True, slots=True)
class Notification:
    body: Body  # who receives it
    action: str  # what is sent or done, in Chinese
    legal_basis: str
    sender: Body = Body.bureau  # who must do it; others' duties are listed so officers can check

    @property
    def body_label(self) -> str:
        return BODY_LABELS[self.body]
