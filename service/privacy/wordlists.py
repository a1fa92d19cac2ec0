"""Word lists the name scrubber uses to tell a person's name from an ordinary word.

Three sets, all lower case:

* ``NAME_WORDS``: ordinary English words that are also common given names or surnames
  ("will", "grace", "mark", "bill", "hope", "young", "cook"). A directory name in this set
  is only redacted when the text gives a sign that it is a name (see ``scrub``). The set was
  written by hand, guided by the words a case-sensitive English dictionary (SCOWL) lists both
  capitalised and in lower case. It is deliberately generous: a word missing here that is
  also some staff member's surname would be redacted wherever it is capitalised, so add
  to it (``Scrubber(common_words=...)``) when an import shows a surname that is a word.
* ``CAPITALISED_WORDS``: words English always capitalises, so a capital letter says nothing
  about them being a name: "I", days, months, holidays, and places that are also given
  names ("India", "Florence"). Redacted only next to a cue word or inside a full name.
* ``NEVER_NAMES``: function words, pronouns and workplace words ("manager", "HR", "team").
  Never taken for a name on their own, not even after a cue word ("my manager I think ...").
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NAME_WORDS: frozenset[str] = _words(
    """
    will may grace mark bill hope joy faith dawn rose lily ivy daisy violet iris hazel olive
    heather holly amber ruby pearl crystal jade jasmine ginger honey candy sandy penny patience
    prudence charity felicity constance clement earnest frank art pat sue rob ray nick don
    guy gene dean dale glen drew chase miles lane wade reed heath forest river brook rain storm
    sky summer autumn winter spring robin jack jay bob bobby billy sonny rusty dusty misty
    buddy chuck hank rocky randy rick rod roger harry tom tony terry kit kitty dolly sally
    melody harmony destiny trinity sterling noble royal earl duke king queen prince knight
    lord bishop major marshal sage angel cherry berry basil
    young long short little small white black brown green grey gray red rich strong wise
    sharp bright sweet swift good best stark moody hardy stern gay free early north south
    east west
    hall wood woods hill hills field fields stone stones ford marsh moss moor moore ash
    frost snow rivers waters wells well brooks banks parks park bush rice lamb fox wolf bird
    crane swan finch wren hart buck bull drake bell cross church chapel house land mills mill
    gates graves wall walls ward post page price case cash pound sterling love hand head
    power powers day days weeks rush lee bond booth chambers hood horn mason masons
    cook baker butler porter walker hunter fisher miller farmer carpenter turner potter
    weaver tanner cooper fuller mercer dyer barber brewer singer taylor sawyer shepherd
    archer bowman carter chandler collier constable draper foreman forester gardener
    glover goldsmith grant joiner knight marshall painter parsons pike plumber saddler
    sexton slater spencer steward thatcher tucker warden wheeler wright clay flint glass
    gold golden silver steel iron stock sparks spears stokes sanders sellers summers winters
    pierce pace peel peck coward savage wilder wild bloom flowers fern laurel myrtle
    rosemary violet olive coffey cotton craft crisp dare darling fair fairweather fine
    freeman goodman goodwin hale hardy hunt hurst jewel keen lovely meek merry nice
    paradise peace quick rush sharpe stout strange sunshine trim truth underwood victor
    virtue wing worth
    """
)

CAPITALISED_WORDS: frozenset[str] = _words(
    """
    i monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    christmas easter advent lent diwali eid ramadan hanukkah passover halloween
    thanksgiving xmas boxing
    christian christians muslim jewish hindu sikh buddhist catholic protestant
    english british scottish welsh irish american indian european african asian
    india georgia florence paris jordan chelsea sydney austin dallas brooklyn kenya adelaide
    victoria virginia carolina savannah phoenix madison london england scotland wales
    ireland america europe africa asia china japan
    """
)

NEVER_NAMES: frozenset[str] = _words(
    """
    a an the and but or nor so yet if then than that this these those there here when where
    while why how what which who whom whose because although though since until unless
    of in on at to from by for with without about above below under over into onto upon
    after before during between among through across around against along behind beside
    i me my mine myself we us our ours you your yours he him his she her hers they them
    their theirs it its one someone somebody everyone everybody anyone nobody nothing
    all any both each every few many more most much none other some such own same
    is am are was were be been being have has had do does did would shall should can
    could might must not no yes ok okay also just only even still again ever never
    always often sometimes today yesterday tomorrow tonight now later soon already
    afterwards finally eventually apparently honestly basically anyway however meanwhile
    unfortunately luckily recently lately suddenly yet once whenever as like either neither
    actually obviously clearly sadly really usually normally especially initially
    personally hopefully thankfully surprisingly understandably allegedly supposedly
    hi hello dear thanks thank please regards sorry
    mr mrs ms miss mx dr prof sir madam
    manager managers boss supervisor supervisors colleague colleagues coworker coworkers
    director directors lead leader leaders head chief ceo cfo coo cto cio vp hr it
    team teams department dept office company staff employee employees worker workers
    management board committee union rep representative senior junior assistant deputy
    officer officers admin administrator executive intern trainee contractor consultant
    partner partners client clients customer customers member members owner founder
    president chair chairman chairwoman chairperson secretary clerk agent analyst engineer
    nurse doctor teacher driver
    meeting meetings email emails phone call calls message messages text chat
    rota rotas roster rosters shift shifts
    policy grievance tribunal complaint report
    """
)

# --- every language the form offers (en, de, fr, es, nl, pl, it, pt) -------------------------

# Words the risk rules and classifier need, kept even where they look like names (German
# capitalises every noun; nationalities and faiths are capitalised in English). Lower case.
KEEP_WORDS: frozenset[str] = _words(
    """
    polish pole poles polen polnisch polnische polnischen polonais polonaise polaco polaca
    pools poolse polacco polacca polonês polonesa polak polka polacy polska polski polskie
    romanian romanians rumäne rumänin rumänisch roumain roumaine rumano rumana roemeens
    rumeno rumena romeno romena rumun rumunka
    nigerian ghanaian somali eritrean ethiopian sudanese syrian afghan iraqi iranian kurdish
    turkish türke türkin türkisch turc turque turco turca turks turk turek turczynka
    pakistani bangladeshi indian chinese filipino vietnamese thai japanese korean
    caribbean jamaican african asian european arab arabic hispanic latino latina latinx
    black white brown mixed roma romani gypsy traveller travellers sinti
    german deutsch deutsche deutscher french französisch français française francés
    francesa frans franse francese francês francesa francuz francuzka
    spanish spanier spanierin spanisch espagnol espagnole español española spaans spaanse
    spagnolo spagnola espanhol espanhola hiszpan hiszpanka
    dutch niederländer holländer niederländisch néerlandais holandés nederlander
    nederlandse olandese holandês holender holenderka
    italian italiener italienerin italienisch italien italienne italiano italiana italiaan
    italiaanse włoch włoszka
    portuguese portugiese portugiesin portugiesisch portugais portugaise portugués
    portuguesa portugees portugese portoghese português portugalczyk
    british english irish scottish welsh american canadian australian
    ukrainian ukrainer ukrainerin ukrainien ucraniano ucraino oekraïens ukrainiec ukrainka
    russian russe russin ruso rus russo rosjanin brazilian brasilianer brésilien brasileño
    brasiliano brasileiro brazylijczyk moroccan marokkaner marocain marroquí marokkaans
    marocchino marroquino marokańczyk algerian tunisian
    muslim muslime muslimin muslimisch musulman musulmane musulmán musulmana moslim
    moslima musulmano musulmana muçulmano muçulmana muzułmanin muzułmanka islam islamic
    islamisch islamique islámico islamitisch islamico islâmico
    jew jewish jude jüdin jüdisch juif juive judío judía jood joods ebreo ebrea judeu judia
    żyd żydówka
    christian christ christin christlich chrétien chrétienne cristiano cristiana christen
    christelijk cristão cristã chrześcijanin chrześcijanka catholic katholik katholisch
    catholique católico católica katholiek cattolico cattolica katolik katoliczka
    protestant protestantisch protestante evangelisch orthodox orthodoxe ortodoxo ortodosso
    prawosławny hindu hindou hindú sikh buddhist buddhistisch bouddhiste budista buddista
    boeddhist buddysta atheist atheistin athée ateo atea ateu atheïst ateista
    hijab kopftuch voile velo hoofddoek chusta turban kippah kippa ramadan
    gay lesbian bisexual trans transgender queer lgbt lgbtq schwul lesbisch homosexuel
    gai lesbienne homosexual lesbiana homo homoseksualny lesbijka omosessuale gay lésbica
    manager managerin teamleiter teamleiterin schichtleiter schichtleiterin vorgesetzter
    vorgesetzte abteilungsleiter abteilungsleiterin chef chefin kollege kollegin kollegen
    mitarbeiter mitarbeiterin mitarbeitende leiter leiterin personalabteilung betriebsrat
    geschäftsführer geschäftsführerin meister meisterin vorarbeiter vorarbeiterin
    pflegekraft krankenschwester fahrer fahrerin azubi praktikant praktikantin
    responsable directeur directrice collègue collègues supérieur chef d'équipe
    encargado encargada jefe jefa compañero compañera supervisor supervisora director
    directora leidinggevende collega collega's teamleider baas chef directeur
    kierownik kierowniczka szef szefowa przełożony przełożona współpracownik koleżanka
    kolega dyrektor dyrektorka responsabile capo capa collega direttore direttrice
    gerente chefe colega encarregado encarregada supervisora diretor diretora
    job jobs kantine büro schreibtisch lager lagerhalle pausenraum umkleide parkplatz empfang
    werkstatt halle station flur küche toilette besprechungsraum
    cantine bureau entrepôt vestiaire parking accueil atelier couloir cuisine
    cantina comedor oficina escritorio almacén vestuario aparcamiento recepción taller
    kantine kantoor bureau magazijn kleedkamer parkeerplaats receptie werkplaats gang
    stołówka biuro biurko magazyn szatnia parking recepcja warsztat korytarz kuchnia
    mensa ufficio scrivania magazzino spogliatoio parcheggio reception officina
    refeitório escritório secretária armazém balneário estacionamento receção oficina
    """
)

# Titles in every offered language; the word after one is a name ("Herr Müller", "Mme Dubois",
# "Sra. García", "pani Kowalska", "dhr. De Vries", "Sig.ra Rossi", "Dott. Bianchi").
TITLES: frozenset[str] = _words(
    """
    mr mrs ms mx miss dr prof professor sir dame lady lord madam mister
    herr herrn frau hr fr dipl ing
    monsieur madame mademoiselle mme mlle mmes mm
    señor señora señorita sr sra srta sres don doña dª
    meneer mevrouw dhr mevr mw juf
    pan pani pana panem panią panu
    signor signore signora signorina sig sigra dott dottssa dottoressa ing avv
    senhor senhora sr sra srª dona
    """
)
# Titles that are also ordinary words ("don a uniform", "per lady"): only when capitalised.
TITLES_NEED_CAPITAL: frozenset[str] = _words(
    "miss sir dame lady lord madam mister professor don dona ing fr hr mm juf"
)

# Lower-case joining words inside names: "van der Berg", "de la Cruz", "dos Santos".
NAME_PARTICLES: frozenset[str] = _words(
    "van der den de del della di da das dos do du la le von vom zu ten ter al el bin"
)

# Words after which a lower-case common given name is a person: "me and anna", "with jan".
LOWER_CASE_NAME_CUES: frozenset[str] = _words(
    """
    and with told asked from by for to me
    und mit mir von für an
    et avec à par pour
    y con a por para
    en met aan door voor
    i z ze do przez dla
    e con da per
    com por para
    """
)

# Articles: in German (and Dutch) a capitalised word after one is a noun, not a name.
ARTICLES: dict[str, frozenset[str]] = {
    "de": _words("der die das den dem des ein eine einen einem einer eines im am zum zur vom beim"),
    "nl": _words("de het een"),
}
