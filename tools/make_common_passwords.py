"""Build resources/security/common-passwords.txt offline.

The list is made from well-known public knowledge, reproducible without a
network: the most common passwords of the published breach analyses, keyboard
walks, digit runs, years, common words with the usual suffixes, and Japanese
romaji favourites. The sign-in policy compares case-insensitively, so every
entry is lower case. Run: python tools/make_common_passwords.py
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "resources" / "security" / "common-passwords.txt"



def _words(text: str) -> list[str]:
    return text.split()


COMMON = _words("""
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball
abc123 football monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang
1234567890 michael 654321 pussy superman 1qaz2wsx 7777777 fuckyou 121212 000000 qazwsx
123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster soccer harley batman
andrew tigger sunshine iloveyou fuckme 2000 charlie robert thomas hockey ranger daniel
starwars klaster 112233 george asshole computer michelle jessica pepper 1111 zxcvbn 555555
11111111 131313 freedom 777777 pass fuck maggie 159753 aaaaaa ginger princess joshua cheese
amanda summer love ashley 6969 nicole chelsea biteme matthew access yankees 987654321
dallas austin thunder taylor matrix william corvette hello martin heather secret fucker
merlin diamond 1234qwer gfhjkm hammer silver 222222 88888888 anthony justin test bailey
q1w2e3r4t5 patrick internet scooter orange 11111 golfer cookie richard samantha bigdog
guitar jackson whatever mickey chicken sparky snoopy maverick phoenix camaro sexy peanut
morgan welcome falcon cowboy ferrari samsung andrea smokey steelers joseph mercedes
dakota arsenal eagles melissa boomer booboo spider nascar monster tigers yellow xxxxxx
123123123 gateway marina diablo bulldog qwer1234 compaq purple hardcore banana junior
hannah 123654 porsche lakers iceman money cowboys 987654 london tennis 999999 ncc1701
coffee scooby 0000 miller boston q1w2e3r4 fuckoff brandon yamaha chester mother forever
johnny edward 333333 oliver redsox player nikita knight fender barney midnight please
brandy chicago badboy iwantu slayer rangers charles angel flower bigdaddy rabbit wizard
bigdick jasper enter rachel chris steven winner adidas victoria natasha 1q2w3e4r jasmine
winter prince panties marine ghbdtn fishing cocacola casper james 232323 raiders 888888
marlboro gandalf asdfasdf crystal 87654321 12344321 sexsex golden blowme bigtits 8675309
panther lauren angela bitch spanky thx1138 angels madison winston shannon mike toyota
blowjob jordan23 canada sophie apples dick tiger razz 123abc pokemon qazxsw 55555 qwaszx
muffin johnson murphy cooper jonathan liverpoo david danielle 159357 jackie 1990 123456a
789456 turtle horny abcd1234 scorpion qazwsxedc 101010 butter carlos password1 dennis
slipknot qwerty123 booger asdf 1991 black startrek 12341234 cameron newyork rainbow nathan
john 1992 rocket viking redskins butthead asdfghjkl 1212 sierra peaches gemini doctor wilson
sandra helpme qwertyui victor florida dolphin pookie captain tucker blue liverpool theman
bandit dolphins maddog packers jaguar lovers nicholas united tiffany maxwell zzzzzz nirvana
jeremy suckit stupid porn monica elephant giants jackass hotdog rosebud success debbie
mountain 444444 xxxxxxxx warrior 1q2w3e4r5t q1w2e3 123456q albert metallic lucky azerty
7777 shithead alex bond007 alexis 1111111 samson 5150 willie scorpio bonnie gators benjamin
voodoo driver dexter 2112 jason calvin freddy 212121 creative 12345a sydney rush2112 1989
asdfghjk red123 bubba 4815162342 passw0rd trouble gunner happy gordon legend jessie stella
qwert eminem arthur apple nissan bullshit bear america 1qazxsw2 nothing parker 4444 rebecca
qweqwe garfield 01012011 beavis 69696969 jack asdasd december 2222 102030 252525 11223344
magic apollo skippy 315475 girls kitten golf copper braves shelby godzilla beaver fred
tomcat august buddy airborne 1993 1988 lifehack qqqqqq brooklyn animal platinum phantom
online xavier darkness blink182 power fish green 789456123 voyager police travis 12qwaszx
heaven snowball lover abcdef 00000 pakistan 007007 walter playboy blazer cricket sniper
hooters donkey willow loveme saturn therock redwings bigboy pumpkin trinity williams
tinkerbell topgun 1213 sabrina 7654321 admin administrator root toor changeme default
letmein123 welcome1 welcome123 login guest master123 passpass p@ssw0rd p@ssword pa55word
iloveu loveyou lovely hello123 111222 a1b2c3 abc12345 monkey123 dragon123 sunshine1
princess1 football1 baseball1 superman1 trustno1 whatever1 qwerty1 qwertyuiop1
""")

ROMAJI = _words("""
sakura hikari himawari tsubasa daisuki aishiteru arigatou konnichiwa sayonara ohayou
nihon nippon tokyo osaka kyoto nagoya yokohama sapporo fukuoka kobe sendai hiroshima
okinawa fujisan doraemon pikachu totoro naruto sasuke goku gundam anpanman hellokitty
kitty miku hatsune sailormoon luffy onepiece ultraman godzilla kamisama tenshi akuma
yuki haruka haruto hinata yui yuuki kenji takashi hiroshi satoshi akira kazuki daiki
shota ryota yuta takumi sora umi hoshi tsuki taiyou kaze hana neko inu usagi kitsune
tanuki ramen sushi tempura wasabi matcha sakuragi kawaii sugoi baka ganbare ganbatte
ninja samurai shogun sensei senpai kohai otaku anime manga suzuki tanaka watanabe
yamamoto nakamura kobayashi kato yoshida yamada sasaki yamaguchi matsumoto inoue kimura
hayashi shimizu yamazaki mori abe ikeda hashimoto ishikawa ogawa okada maeda fujita
sato takahashi ito nanaco seven sevenpay 7pay seveneleven omotenashi
""")

WORDS = _words("""
password passw0rd p@ssw0rd iloveyou welcome letmein sunshine princess football baseball
dragon monkey master shadow superman qwerty qwertyuiop administrator admin computer
internet trustno1 whatever starwars freedom michael jennifer charlie secret summer
winter spring autumn hello changeme default security support operator supervisor
compensation hosho hoshodesk
""")

WALKS = _words("""
qwertyuiop qwertyuiop[] asdfghjkl asdfghjkl; zxcvbnm zxcvbnm,./ qwertyuiopasdfghjkl
qwertyuiopasdfghjklzxcvbnm 1qaz2wsx3edc 1qaz2wsx3edc4rfv 1qaz2wsx3edc4rfv5tgb zaq12wsx
zaq1xsw2cde3 zaq1zaq1zaq1 qazwsxedcrfv qazwsxedcrfvtgb q1w2e3r4t5y6 q1w2e3r4t5y6u7i8
1q2w3e4r5t6y 1q2w3e4r5t6y7u8i 1qa2ws3ed4rf qweasdzxc qweasdzxcqwe asdfqwerzxcv
qwerasdfzxcv 1234qwerasdf 1234qwerasdfzxcv qwer1234asdf !qaz@wsx#edc !qaz2wsx#edc
poiuytrewq lkjhgfdsa mnbvcxz 0987654321 0987654321poiuytrewq 1234567890qwertyuiop
qwertyuiop1234567890 1234567890- 1234567890-= !@#$%^&*() !@#$%^&*()_+
""")

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "!", "1!",
            "123!", "!!", "2019", "2020", "2018", "01", "007", "69", "99", "00", "0"]


def build() -> list[str]:
    found: set[str] = set()
    bases = {w.lower() for w in COMMON + ROMAJI + WORDS}
    for base in bases:
        for suffix in SUFFIXES:
            found.add(base + suffix)
        found.add(base + base)
        found.add(base * 3)
    for base in {w.lower() for w in WORDS + ROMAJI + COMMON[:100]}:
        for year in range(1980, 2026):
            found.add(f"{base}{year}")
    for base in WORDS[:20] + ROMAJI[:40]:
        for other in ROMAJI[:20] + WORDS[:10]:
            if other != base:
                found.add(base + other)
    found.update(w.lower() for w in WALKS)
    digits = "12345678901234567890"
    for length in range(6, 21):
        found.add(digits[:length])
        found.add(digits[:length][::-1])
        for d in "0123456789":
            found.add(d * length)
        for ch in "abcxz":
            found.add(ch * length)
    for year in range(1900, 2031):
        found.add(str(year))
        found.add(f"{year}{year}")
        found.add(f"{year}{year}{year}")
    for year in range(1960, 2026):
        for month in range(1, 13):
            found.add(f"{year}{month:02d}")
    return sorted(found)


def main() -> None:
    entries = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Common and breached passwords, refused by the sign-in policy "
              "(case-insensitive).\n# Made by tools/make_common_passwords.py: do not edit.\n")
    OUT.write_text(header + "\n".join(entries) + "\n", encoding="utf-8")
    print(f"{len(entries)} entries written to {OUT}")


if __name__ == "__main__":
    main()
