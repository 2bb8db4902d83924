from __future__ import annotations

import freezegun

# freezegun is for tests whose subject is the wall-clock date (JWT expiry, the sim's
# funding hours). pykka's futures and our runtime's timers and asks must keep real time
# under it, or an ask with a timeout could never time out.
freezegun.configure(extend_ignore_list=["pykka", "perpsbot.runtime"])
