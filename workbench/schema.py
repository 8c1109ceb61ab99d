"""The claims data contract (``shared/schema.md``) as code.

This module is the single source of the tables, their columns, types, keys and sensitive flags.
Import, synthesis, validation, the session's views and the data dictionary all read it.

Types
-----
``str``  identifier or text, always a string (leading zeros matter)
``date`` a day
``ts``   a timestamp to the second
``dec``  money in yuan, exact, 2 decimals (``decimal128(18, 2)``)
``num``  a quantity, may be fractional (``float64``)
``int``  an integer
``bool`` true / false
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

ARROW_TYPES = {
    "str": pa.string(),
    "date": pa.date32(),
    "ts": pa.timestamp("us"),
    "dec": pa.decimal128(18, 2),
    "num": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}

SQL_TYPES = {
    "str": "VARCHAR",
    "date": "DATE",
    "ts": "TIMESTAMP",
    "dec": "DECIMAL(18,2)",
    "num": "DOUBLE",
    "int": "BIGINT",
    "bool": "BOOLEAN",
}

# Decimal places of the exact numeric types: rule SQL casts such a column to a DECIMAL without a
# rounding detour (sql/dialect.py), and a session refuses a file storing it as another type.
EXACT_SCALE = {"dec": 2, "int": 0}


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    type: str
    zh: str
    en: str
    nullable: bool = True
    optional: bool = False  # the column may be absent from the file altogether
    sensitive: bool = False
    ext: bool = False  # a workbench extension the national interface does not carry
    codes: dict = field(default_factory=dict)  # allowed code values and their meaning

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    """One contract table."""

    name: str
    zh: str
    en: str
    columns: tuple
    key: tuple = ()  # columns whose combination is unique
    optional: bool = False
    references: tuple = ()  # (column, table, column) an import enforces

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name}")

    @property
    def column_names(self) -> list:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list:
        return [c.name for c in self.columns if not c.optional]

    @property
    def sensitive_columns(self) -> list:
        return [c.name for c in self.columns if c.sensitive]

    def arrow_schema(self, present=None) -> pa.Schema:
        """Arrow schema of the table, limited to ``present`` columns when given."""
        cols = [c for c in self.columns if present is None or c.name in present]
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=True) for c in cols])


def C(name, type, zh, en, **kw):
    return Column(name, type, zh, en, **kw)


GEND = {"1": "男 male", "2": "女 female", "9": "未知 unknown"}
INSUTYPE = {"310": "职工基本医疗保险 employee basic", "390": "城乡居民基本医疗保险 urban-rural resident basic"}
FIXMEDINS_TYPE = {"1": "定点医疗机构 medical institution", "2": "定点零售药店 retail pharmacy"}
HOSP_LV = {"1": "三级 tertiary", "2": "二级 secondary", "3": "一级 primary", "9": "未定级/基层/药店 unrated, primary care or pharmacy"}
AGRMT_STAS = {"active": "正常 active", "suspended": "暂停 suspended", "terminated": "解除 terminated"}
DR_TYPE = {"doctor": "医师 doctor", "pharmacist": "药师 pharmacist"}
MED_TYPE = {"11": "普通门诊 outpatient", "14": "门诊慢特病 chronic outpatient", "21": "普通住院 inpatient", "41": "定点药店购药 pharmacy purchase"}
CHRGITM = {
    "01": "床位费 bed", "02": "诊察费 consultation", "03": "检查费 examination", "04": "化验费 laboratory test",
    "05": "治疗费 treatment", "06": "手术费 surgery", "07": "护理费 nursing", "08": "卫生材料费 consumables",
    "09": "西药费 western drugs", "10": "中药饮片费 TCM herbal pieces", "11": "中成药费 Chinese patent medicines",
    "12": "一般诊疗费 general diagnosis", "13": "挂号费 registration", "14": "其他费 other",
}

TABLES: dict = {}


def _add(t: Table):
    TABLES[t.name] = t


_add(Table("psn", "参保人员", "insured persons", (
    C("psn_no", "str", "人员编号", "person number", nullable=False),
    C("certno", "str", "身份证号", "national ID number", sensitive=True),
    C("psn_name", "str", "姓名", "name", sensitive=True, optional=True),
    C("gend", "str", "性别", "sex", codes=GEND),
    C("brdy", "date", "出生日期", "date of birth"),
    C("insutype", "str", "险种", "insurance type", codes=INSUTYPE),
    C("insuplc_admdvs", "str", "参保地医保区划", "region of enrolment (6 digits)"),
    C("death_date", "date", "死亡日期", "date of death", ext=True, optional=True),
), key=("psn_no",)))

_add(Table("insu", "参保记录", "enrolment spells", (
    C("psn_no", "str", "人员编号", "person number", nullable=False),
    C("certno", "str", "身份证号", "national ID number", sensitive=True),
    C("insutype", "str", "险种", "insurance type", codes=INSUTYPE),
    C("insuplc_admdvs", "str", "参保地医保区划", "region of enrolment"),
    C("begndate", "date", "开始日期", "spell start", nullable=False),
    C("enddate", "date", "结束日期", "spell end (null = open)"),
), optional=True))

_add(Table("medins", "定点医药机构", "designated institutions and pharmacies", (
    C("fixmedins_code", "str", "定点医药机构编号", "institution code", nullable=False),
    C("fixmedins_name", "str", "名称", "name"),
    C("fixmedins_type", "str", "机构类型", "institution type", codes=FIXMEDINS_TYPE),
    C("hosp_lv", "str", "医院等级", "hospital level", codes=HOSP_LV),
    C("admdvs", "str", "所在医保区划", "region (county) code"),
    C("agrmt_stas", "str", "协议状态", "agreement status", ext=True, optional=True, codes=AGRMT_STAS),
), key=("fixmedins_code",)))

_add(Table("dr", "医保医师/药师", "insured-service doctors and pharmacists", (
    C("dr_code", "str", "国家医保医师代码", "doctor code", nullable=False),
    C("dr_name", "str", "姓名", "name", sensitive=True, optional=True),
    C("fixmedins_code", "str", "执业机构", "institution"),
    C("dept_codg", "str", "科室", "department", optional=True),
    C("dr_type", "str", "人员类型", "doctor or pharmacist", ext=True, optional=True, codes=DR_TYPE),
), key=("dr_code",)))

_add(Table("mdtrt", "就诊", "visits", (
    C("mdtrt_id", "str", "就诊ID", "visit id", nullable=False),
    C("psn_no", "str", "人员编号", "person number", nullable=False),
    C("fixmedins_code", "str", "定点医药机构编号", "institution", nullable=False),
    C("med_type", "str", "医疗类别", "kind of care", codes=MED_TYPE),
    C("begntime", "ts", "开始(入院)时间", "start (admission) time", nullable=False),
    C("endtime", "ts", "结束(出院)时间", "end (discharge) time", nullable=False),
    C("dise_codg", "str", "主诊断编码", "main diagnosis (ICD-10)"),
    C("dise_name", "str", "诊断名称", "diagnosis name", optional=True),
    C("atddr_no", "str", "主治/开方医师", "attending or prescribing doctor"),
    C("dept_codg", "str", "科室", "department", optional=True),
    C("drg_codg", "str", "DRG/DIP分组", "case-mix group (DRG)", ext=True, optional=True),
), key=("mdtrt_id",), references=(("psn_no", "psn", "psn_no"), ("fixmedins_code", "medins", "fixmedins_code"))))

_add(Table("setl", "结算", "settlements", (
    C("setl_id", "str", "结算ID", "settlement id", nullable=False),
    C("mdtrt_id", "str", "就诊ID", "visit id", nullable=False),
    C("psn_no", "str", "人员编号", "person number", nullable=False),
    C("fixmedins_code", "str", "定点医药机构编号", "institution", nullable=False),
    C("setl_time", "ts", "结算时间", "settlement time"),
    C("medfee_sumamt", "dec", "医疗费总额", "total medical cost"),
    C("hifp_pay", "dec", "统筹基金支出", "pooled fund payment"),
    C("acct_pay", "dec", "个人账户支出", "personal account payment", optional=True),
    C("psn_cash_pay", "dec", "个人现金支出", "cash paid by the person", optional=True),
    C("fund_pay_sumamt", "dec", "基金支付总额", "all fund payments", optional=True),
    C("refd_setl_flag", "str", "退费结算标志", "refund / reversal flag (1 = refund)", optional=True),
), key=("setl_id",), references=(("mdtrt_id", "mdtrt", "mdtrt_id"),)))

_add(Table("fee", "费用明细", "itemised charges", (
    C("feedetl_sn", "str", "费用明细流水号", "charge line number", nullable=False),
    C("mdtrt_id", "str", "就诊ID", "visit id", nullable=False),
    C("psn_no", "str", "人员编号", "person number"),
    C("fee_ocur_time", "ts", "费用发生时间", "time of charge"),
    C("med_list_codg", "str", "医保目录编码", "catalogue code"),
    C("med_chrgitm_type", "str", "收费项目类别", "charge category", codes=CHRGITM),
    C("cnt", "num", "数量", "quantity"),
    C("pric", "dec", "单价", "unit price"),
    C("det_item_fee_sumamt", "dec", "明细项目费用总额", "line total"),
    C("bilg_dr_codg", "str", "开单医师", "billing doctor"),
    C("bilg_dept_codg", "str", "开单科室", "billing department", optional=True),
), key=("mdtrt_id", "feedetl_sn"), references=(("mdtrt_id", "mdtrt", "mdtrt_id"),)))

_add(Table("list", "医保目录", "insurance catalogue with limits", (
    C("med_list_codg", "str", "医保目录编码", "catalogue code", nullable=False),
    C("list_name", "str", "名称", "name"),
    C("med_chrgitm_type", "str", "收费项目类别", "charge category", codes=CHRGITM),
    C("pric_uplmt_amt", "dec", "最高限价", "price cap"),
    C("lmt_gend", "str", "限定性别", "only paid for this sex", codes=GEND),
    C("lmt_age_min", "int", "限定最小年龄", "minimum age paid"),
    C("lmt_age_max", "int", "限定最大年龄", "maximum age paid"),
    C("lmt_dise", "str", "限定适应症", "paid indications (ICD-10 prefixes, ;-separated)"),
    C("lmt_hosp_lv", "str", "限定医院等级", "lowest hospital level paid", codes=HOSP_LV),
    C("max_daily_cnt", "num", "每日最大数量", "most uses per day / daily dose", ext=True, optional=True),
    C("per_day", "bool", "按日计费", "billed at most once per day of stay", ext=True, optional=True),
    C("tcm_therapy", "bool", "中医治疗项目", "TCM therapy", ext=True, optional=True),
), key=("med_list_codg",), optional=True))

_add(Table("list_incl", "项目包含关系", "items that include others", (
    C("parent_codg", "str", "包含项目编码", "including item", nullable=False),
    C("child_codg", "str", "被包含项目编码", "included item", nullable=False),
), key=("parent_codg", "child_codg"), optional=True))

_add(Table("stock", "进销存", "purchase / sale / stock ledger", (
    C("fixmedins_code", "str", "定点医药机构编号", "institution", nullable=False),
    C("med_list_codg", "str", "医保目录编码", "catalogue code", nullable=False),
    C("period", "str", "期间(YYYY-MM)", "month", nullable=False),
    C("inv_begn", "num", "期初库存", "opening stock"),
    C("purc_cnt", "num", "采购数量", "quantity bought"),
    C("purc_pric", "dec", "采购单价", "purchase unit price"),
    C("sale_cnt", "num", "销售数量", "quantity sold (recorded)"),
    C("inv_end", "num", "期末库存", "closing stock"),
), key=("fixmedins_code", "med_list_codg", "period"), optional=True))

_add(Table("inspector", "执法人员库", "inspector pool", (
    C("inspector_id", "str", "执法人员编号", "inspector id", nullable=False),
    C("inspector_name", "str", "姓名", "name"),
    C("unit", "str", "执法单位", "unit"),
    C("admdvs", "str", "所在区划", "county they work in"),
    C("former_fixmedins_code", "str", "曾任职机构", "institution they worked for", optional=True),
), key=("inspector_id",), optional=True, ))

# Order in which tables are loaded and validated: referenced tables first.
TABLE_ORDER = ["psn", "insu", "medins", "dr", "mdtrt", "setl", "fee", "list", "list_incl", "stock", "inspector"]
# A data folder must hold these. The others may be absent: schema.md marks insu, list_incl, stock
# and inspector optional, and a CMS-layout extract has no itemised charges or catalogue either, so
# a rule or view that needs fee, list, dr or setl checks for it and is skipped with a message.
REQUIRED_TABLES = ["psn", "medins", "mdtrt"]


def table(name: str) -> Table:
    """The contract table called ``name``."""
    try:
        return TABLES[name]
    except KeyError:
        from .errors import WorkbenchError

        raise WorkbenchError(f"unknown table {name!r}; the contract has {', '.join(TABLE_ORDER)}") from None
