"""Demo organisations and users for every role: the same on every run, documented in the README."""
import base64

from sqlalchemy import select

from accounts import auth, credit_code, keys, regions
from accounts.models import OrgKind, Organisation, User
from core.extensions import db
from core.permissions import Role

DEMO_PASSWORD = "demo-pass-2026"
DEMO_PIN = "demo-pin-2026"  # keyholders' opening-key PIN

# (name, first 17 characters of the credit code, kind, region)
ORGANISATIONS = [
    ("南京市公共资源交易中心", "12320100466000001", OrgKind.CENTRE, "320100"),
    ("南京市教育局", "11320100466000002", OrgKind.PROCURING_UNIT, "320100"),
    ("南京市江宁区卫生健康委员会", "11320115466000003", OrgKind.PROCURING_UNIT, "320115"),
    ("江苏华建建设工程有限公司", "91320100MA1X00004", OrgKind.BIDDER, "320100"),
    ("南京宏远市政工程有限公司", "91320106MA1X00005", OrgKind.BIDDER, "320106"),
    ("苏州恒通智能科技有限公司", "91320500MA1X00006", OrgKind.BIDDER, "320500"),
    ("南京金陵办公用品有限公司", "91320102MA1X00007", OrgKind.SUPPLIER, "320102"),
    ("中国工商银行股份有限公司南京分行", "91320100MA1X00008", OrgKind.GUARANTOR, "320100"),
    ("南京市财政局政府采购监督处", "11320100466000009", OrgKind.SUPERVISOR_DEPARTMENT, "320100"),
]

# (username, name, role, organisation index, TOTP seed or None)
USERS = [
    ("admin", "平台管理员 Admin", Role.ADMIN, 0, b"demo-admin-totp-2026"),
    ("centre", "交易中心 王敏", Role.CENTRE, 0, b"demo-centre-totp-202"),
    ("expert1", "评标专家 刘洋", Role.EVALUATOR, 0, None),
    ("procuring", "教育局 陈静", Role.PROCURING, 1, None),
    ("procuring2", "卫健委 周涛", Role.PROCURING, 2, None),
    ("bidder1", "华建 张伟", Role.BIDDER, 3, None),
    ("bidder2", "宏远 李娜", Role.BIDDER, 4, None),
    ("bidder3", "恒通 赵磊", Role.BIDDER, 5, None),
    ("supplier", "金陵办公 孙丽", Role.SUPPLIER, 6, None),
    ("guarantor", "工商银行 吴刚", Role.GUARANTOR, 7, None),
    ("supervisor", "财政局监督 郑华", Role.SUPERVISOR, 8, b"demo-super-totp-2026"),
]


def totp_key(seed: bytes) -> str:
    """The base32 key to type into an authenticator app."""
    return base64.b32encode(seed).decode()


def load(now) -> list[User]:
    """Idempotent: existing demo records are left as they are."""
    regions.load()
    orgs = []
    for name, first17, kind, region in ORGANISATIONS:
        code = credit_code.complete(first17)
        org = db.session.scalars(select(Organisation).where(Organisation.credit_code == code)).first()
        if org is None:
            org = Organisation(name=name, credit_code=code, kind=kind, region_code=region, status="approved",
                               contact_phone="025-00000000", registered_at=now, decided_at=now,
                               decision_reason="")
            db.session.add(org)
        orgs.append(org)
    db.session.flush()
    users = []
    password_hash = auth.hash_password(DEMO_PASSWORD)
    for username, name, role, org_index, seed in USERS:
        user = db.session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            user = User(organisation=orgs[org_index], username=username, name=name, role=role,
                        email=f"{username}@demo.ggzy.example.cn", status="active", password_hash=password_hash,
                        created_at=now, failed_logins=0, locked=False)
            db.session.add(user)
            db.session.flush()
            if seed:
                auth.set_totp_secret(user, seed)
            if role in keys.KEYHOLDER_ROLES:
                keys.set_pin(user, DEMO_PIN, DEMO_PIN, now)
        users.append(user)
    db.session.flush()
    return users
