"""Writes pii_set.jsonl: reports with their personal strings listed, and reports with none.

Run `python -m tests.privacy.make_pii_set` after changing the templates; the file is
committed so the test reads fixed data. Each language has its own sentences, people and
identifiers (not translations of one template), mixed by a seeded random generator.
Each line: {"language", "text", "pii": [strings that must be gone], "keep": [words that
must survive]}.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("pii_set.jsonl")

PEOPLE = {
    "en": [
        "John Miller",
        "Priya Sharma",
        "Ngozi Okafor",
        "Tom Brennan",
        "Aisha Rahman",
        "Sean O'Donnell",
        "Mary-Kate Fisher",
        "Dariusz Nowak",
        "Kevin Li",
        "Fatima Begum",
    ],
    "de": [
        "Hans Becker",
        "Jürgen Schulze",
        "Ayşe Yılmaz",
        "Katrin Hoffmann",
        "Lukas Brandt",
        "Anna-Lena Vogt",
        "Piotr Kowalczyk",
        "Dieter Krämer",
    ],
    "fr": [
        "Jean-Pierre Lefèvre",
        "Sophie Marchand",
        "Karim Benali",
        "Élodie Girard",
        "Thierry Dubois",
        "Nadia Haddad",
        "Luc Fontaine",
    ],
    "es": [
        "Juan Pérez Gómez",
        "María José Ortega",
        "Javier Ruiz",
        "Lucía Fernández",
        "Alejandro Castillo",
        "Carmen Delgado",
    ],
    "nl": [
        "Pieter van der Berg",
        "Sanne de Vries",
        "Mohamed El Amrani",
        "Joost Bakker",
        "Femke Jansen",
        "Daan Visser",
    ],
    "pl": [
        "Janem Nowakiem",
        "Katarzyna Wiśniewska",
        "Tomasz Zieliński",
        "Agnieszka Wójcik",
        "Marek Lewandowski",
        "Magdalena Kamińska",
    ],
    "it": [
        "Giulia Bianchi",
        "Marco Esposito",
        "Francesca Colombo",
        "Luca Ferrari",
        "Alessandro Ricci",
        "Chiara Romano",
    ],
    "pt": [
        "Ana dos Santos",
        "João Ferreira",
        "Mariana Costa",
        "Rui Almeida",
        "Beatriz Carvalho",
        "Tiago Rodrigues",
    ],
}
TITLED = {
    "en": ["Mrs Patel", "Mr Hughes", "Dr Adeyemi", "Ms Kowalski"],
    "de": ["Herr Müller", "Frau Schneider", "Herr Yıldız", "Frau Dr. Weber"],
    "fr": ["Mme Dubois", "M. Lefèvre", "Mme Nguyen", "M. Benhamou"],
    "es": ["Sra. García", "Sr. Moreno", "Sra. Jiménez", "Sr. Navarro"],
    "nl": ["mevrouw Jansen", "meneer De Graaf", "dhr. Smits", "mevr. Bos"],
    "pl": ["pani Kowalska", "pan Wróblewski", "pani Mazur", "pan Jankowski"],
    "it": ["Sig. Rossi", "Sig.ra Moretti", "Dott. Gallo", "Sig. Conti"],
    "pt": ["Sr. Oliveira", "Sra. Martins", "Dona Fátima", "Sr. Sousa"],
}
LOWER = {
    "en": ["me and priya", "with kemal", "told siobhan"],
    "de": ["mit jürgen", "und ayşe"],
    "fr": ["avec karim", "et élodie"],
    "es": ["con javier", "y lucía"],
    "nl": ["met femke", "en daan"],
    "pl": ["z agnieszką", "i tomaszem"],
    "it": ["con giulia", "e alessandro"],
    "pt": ["com mariana", "e tiago"],
}
IDS = {
    "en": [
        "12 Elm Road",
        "SW1A 1AA",
        "@jdoe_99",
        "badge 44821",
        "NI number QQ 12 34 56 C",
        "born 12/03/1985",
        "reg AB12 CDE",
        "SSN 123-45-6789",
        "staff number 778812",
    ],
    "de": [
        "Hauptstraße 5",
        "10115 Berlin",
        "@lena.k",
        "Personalnummer 556677",
        "geboren am 3.4.1979",
        "Kennzeichen M-AB 1234",
        "Ausweis Nr. 20391",
    ],
    "fr": [
        "15 rue de la Paix",
        "code postal 75002",
        "@karim_b",
        "matricule 44521",
        "né le 14/07/1982",
        "plaque AB-123-CD",
        "badge 90211",
    ],
    "es": [
        "Calle Mayor 3",
        "DNI 12345678Z",
        "@luciafer",
        "nacida el 2 de mayo de 1990",
        "matrícula 1234 BCD",
        "número de empleado 33812",
    ],
    "nl": [
        "Kerkstraat 12",
        "1234 AB",
        "@daanv",
        "personeelsnummer 88123",
        "geboren op 05-06-1975",
        "kenteken 12-ABC-3",
    ],
    "pl": [
        "ul. Kwiatowa 5",
        "00-950 Warszawa",
        "@tomek_z",
        "PESEL 85010112345",
        "urodzona 12.10.1988",
        "identyfikator 55123",
    ],
    "it": [
        "Via Roma 10",
        "@giuliab",
        "matricola 66231",
        "nato il 4 maggio 1980",
        "targa AB 123 CD",
        "codice fiscale RSSMRA80A01H501U",
    ],
    "pt": [
        "Rua Augusta 25",
        "1100-048",
        "@mari.costa",
        "número de funcionário 44120",
        "nascido em 23/09/1986",
        "matrícula 12-AB-34",
    ],
}
# What must survive of an identifier phrase: the cue word stays, the value goes.
CUES = (
    "badge",
    "NI number",
    "born",
    "reg",
    "SSN",
    "staff number",
    "Personalnummer",
    "geboren am",
    "Kennzeichen",
    "Ausweis Nr.",
    "code postal",
    "matricule",
    "né le",
    "plaque",
    "DNI",
    "nacida el",
    "matrícula",
    "número de empleado",
    "personeelsnummer",
    "geboren op",
    "kenteken",
    "PESEL",
    "urodzona",
    "identyfikator",
    "matricola",
    "nato il",
    "targa",
    "codice fiscale",
    "número de funcionário",
    "nascido em",
)

PII_SENTENCES = {
    "en": [
        "I was covering for {P} when it happened again.",
        "{T} shouted at me in front of the whole team.",
        "It was {P} who said I would be sacked if I complained.",
        "Last week I went to the canteen {L} and we were told to get back to work.",
        "You can find me at {I}, but please be discreet.",
        "{P} keeps making comments about my accent.",
        "My manager {P} ignored it when I raised it.",
    ],
    "de": [
        "{T} hat mich vor allen angeschrien.",
        "Ich habe {P} vertreten, als es wieder passierte.",
        "Ich war in der Kantine {L}, und wir wurden ausgelacht.",
        "{P} macht ständig Bemerkungen über meinen Akzent.",
        "Meine Angaben: {I}.",
    ],
    "fr": [
        "{T} m'a humilié devant toute l'équipe.",
        "Je remplaçais {P} quand c'est arrivé.",
        "J'étais à la cantine {L} et on s'est moqué de nous.",
        "{P} fait sans cesse des remarques sur mon accent.",
        "Pour me retrouver : {I}.",
    ],
    "es": [
        "{T} me gritó delante de todo el equipo.",
        "Estaba sustituyendo a {P} cuando volvió a pasar.",
        "Estaba en el comedor {L} y se burlaron de nosotros.",
        "{P} hace comentarios sobre mi acento todo el tiempo.",
        "Mis datos: {I}.",
    ],
    "nl": [
        "{T} schreeuwde tegen mij waar het hele team bij was.",
        "Ik verving {P} toen het weer gebeurde.",
        "Ik zat in de kantine {L} en we werden uitgelachen.",
        "{P} maakt steeds opmerkingen over mijn accent.",
        "Mijn gegevens: {I}.",
    ],
    "pl": [
        "{T} krzyczała na mnie przy całym zespole.",
        "Zastępowałam {P}, kiedy to się powtórzyło.",
        "Byłam w stołówce {L} i śmiano się z nas.",
        "Rozmawiałam z {P} o moim akcencie.",
        "Moje dane: {I}.",
    ],
    "it": [
        "{T} mi ha umiliato davanti a tutto il gruppo.",
        "Sostituivo {P} quando è successo di nuovo.",
        "Ero in mensa {L} e ci hanno deriso.",
        "{P} fa continuamente commenti sul mio accento.",
        "I miei dati: {I}.",
    ],
    "pt": [
        "{T} gritou comigo à frente de toda a equipa.",
        "Eu estava a substituir {P} quando aconteceu outra vez.",
        "Estava no refeitório {L} e riram-se de nós.",
        "{P} faz sempre comentários sobre o meu sotaque.",
        "Os meus dados: {I}.",
    ],
}
CLEAN = {
    "en": [
        "My Polish colleague is mocked in the canteen by the shift supervisor.",
        "As a Muslim I am not allowed time to pray, the manager says it is a distraction.",
        "The warehouse team leader told the Nigerian agency workers to stay by the loading bay.",
        "Our Hispanic nurses are always given the night shifts at the desk.",
        "I am Jewish and the receptionist made a joke about it in the break room.",
        "The Romanian cleaners are shouted at in the car park every morning.",
        "A Catholic driver was told to take off his cross in the office.",
        "The Indian engineers get no overtime while the British ones do.",
    ],
    "de": [
        "Meine polnische Kollegin wird in der Kantine vom Schichtleiter ausgelacht.",
        "Als Muslimin darf ich nicht beten, sagt die Teamleiterin.",
        "Der Vorgesetzte schreit die türkischen Mitarbeiter im Lager an.",
        "Die Kollegen machen Witze über meine Kippa im Pausenraum.",
        "Die Abteilungsleiterin gibt den Rumänen nur Nachtschichten am Empfang.",
    ],
    "fr": [
        "Ma collègue polonaise est moquée à la cantine par le responsable.",
        "En tant que musulman, on me refuse le temps de prier au bureau.",
        "Le chef d'équipe crie sur les intérimaires marocains à l'entrepôt.",
        "La directrice fait des blagues sur les juifs devant l'accueil.",
        "Les infirmières africaines ont toujours les gardes de nuit.",
    ],
    "es": [
        "A mi compañera polaca se ríen de ella en el comedor.",
        "Como musulmana no me dejan rezar, dice la encargada.",
        "El jefe grita a los trabajadores rumanos en el almacén.",
        "La supervisora hace bromas sobre los católicos en la oficina.",
        "Los conductores marroquíes nunca cobran las horas extra.",
    ],
    "nl": [
        "Mijn Poolse collega wordt in de kantine uitgelachen door de teamleider.",
        "Als moslim mag ik niet bidden, zegt de leidinggevende.",
        "De baas schreeuwt in het magazijn tegen de Marokkaanse uitzendkrachten.",
        "Er worden grappen gemaakt over mijn hoofddoek bij de receptie.",
        "De Turkse chauffeurs krijgen altijd de nachtdiensten.",
    ],
    "pl": [
        "Z mojej koleżanki z Ukrainy śmieją się w stołówce.",
        "Jako muzułmanka nie mogę się modlić, mówi kierowniczka.",
        "Szef krzyczy na pracowników z Rumunii w magazynie.",
        "Przełożony żartuje z katolików w biurze.",
        "Kierowcy z Ukrainy nigdy nie dostają nadgodzin.",
    ],
    "it": [
        "La mia collega polacca viene derisa in mensa dal responsabile.",
        "Come musulmana non posso pregare, dice il capo.",
        "Il direttore urla contro i lavoratori rumeni in magazzino.",
        "Si fanno battute sui cattolici in ufficio.",
        "Gli autisti marocchini non hanno mai gli straordinari.",
    ],
    "pt": [
        "A minha colega polaca é gozada no refeitório pelo encarregado.",
        "Como muçulmana não me deixam rezar, diz a gerente.",
        "O chefe grita com os trabalhadores romenos no armazém.",
        "Fazem piadas sobre os católicos no escritório.",
        "Os motoristas brasileiros nunca recebem horas extra.",
    ],
}
CLOSERS = {
    "en": ["It has gone on for months.", "I do not want to lose my job.", "Please help."],
    "de": ["Das geht seit Monaten so.", "Ich habe Angst um meinen Job."],
    "fr": ["Cela dure depuis des mois.", "J'ai peur de perdre mon travail."],
    "es": ["Esto dura desde hace meses.", "Tengo miedo de perder mi trabajo."],
    "nl": ["Dit gaat al maanden zo.", "Ik ben bang mijn baan te verliezen."],
    "pl": ["Trwa to od miesięcy.", "Boję się, że stracę pracę."],
    "it": ["Va avanti da mesi.", "Ho paura di perdere il lavoro."],
    "pt": ["Isto dura há meses.", "Tenho medo de perder o emprego."],
}


def _words(text: str) -> list[str]:
    return [w.strip(".,:;!?") for w in text.split() if len(w.strip(".,:;!?")) > 2]


def _pii_report(rng: random.Random, lang: str) -> dict:
    sentences, pii = [], []
    for template in rng.sample(PII_SENTENCES[lang], k=min(3, len(PII_SENTENCES[lang]))):
        fills = {
            "P": rng.choice(PEOPLE[lang]),
            "T": rng.choice(TITLED[lang]),
            "L": rng.choice(LOWER[lang]),
            "I": rng.choice(IDS[lang]),
        }
        for key, value in fills.items():
            if "{" + key + "}" in template:
                if key == "T":
                    pii.append(value.split(" ", 1)[1].replace("Dr. ", ""))
                elif key == "L":
                    pii.append(value.split(" ", 1)[1])
                elif key == "I":
                    cue = next((c for c in CUES if value.startswith(c + " ")), "")
                    pii.append(value[len(cue) :].strip())
                else:
                    pii.extend(value.split())
        sentences.append(template.format(**fills))
    sentences.append(rng.choice(CLOSERS[lang]))
    return {
        "language": lang,
        "text": " ".join(sentences),
        "pii": [p for p in pii if p.lower() not in {"van", "der", "de", "dos", "el"}],
        "keep": [],
    }


def _clean_report(rng: random.Random, lang: str) -> dict:
    sentences = rng.sample(CLEAN[lang], k=2) + [rng.choice(CLOSERS[lang])]
    text = " ".join(sentences)
    return {"language": lang, "text": text, "pii": [], "keep": _words(text)}


# Titles and role cue words in every offered language: the name after them goes, the title or
# cue word stays (listed in "keep"). Written per language, not translated.
TITLE_AND_CUE_CASES: dict[str, list[tuple[str, list[str], list[str]]]] = {
    "en": [
        ("Mrs Pemberton shouted at me again in the stockroom.", ["Pemberton"], ["Mrs"]),
        ("My manager Hollingsworth keeps changing my rota.", ["Hollingsworth"], ["manager"]),
    ],
    "de": [
        ("Herr Brandstetter hat mich vor allen angeschrien.", ["Brandstetter"], ["Herr"]),
        ("Frau Schimanski lacht über meinen Akzent.", ["Schimanski"], ["Frau"]),
        ("Dr. Wendelin sagt, ich soll mich nicht so anstellen.", ["Wendelin"], ["Dr."]),
        ("Mein Chef Hinterberger schreit mich jeden Tag an.", ["Hinterberger"], ["Chef"]),
    ],
    "fr": [
        ("Mme Lefebvre m'ignore depuis la réunion.", ["Lefebvre"], ["Mme"]),
        ("Ma responsable Charbonneau me crie dessus.", ["Charbonneau"], ["responsable"]),
        ("Mon chef Gauthier m'humilie devant les clients.", ["Gauthier"], ["chef"]),
        ("M. Delacroix a dit que je serais licenciée.", ["Delacroix"], []),
    ],
    "es": [
        ("El Sr. Zubizarreta me grita delante de todos.", ["Zubizarreta"], ["Sr."]),
        ("La Sra. Etxeberria no me deja hablar.", ["Etxeberria"], ["Sra."]),
        ("Mi jefe Arrizabalaga me cambia los turnos.", ["Arrizabalaga"], ["jefe"]),
        ("Mi jefa Goikoetxea me ignora en las reuniones.", ["Goikoetxea"], ["jefa"]),
    ],
    "nl": [
        ("Dhr. Verhoeven schreeuwt tegen me.", ["Verhoeven"], ["Dhr."]),
        ("Mevr. Kuipers negeert mijn vragen.", ["Kuipers"], ["Mevr."]),
        ("Mijn baas Dijkstra lacht me uit.", ["Dijkstra"], ["baas"]),
        ("Mijn leidinggevende Hoekstra zet me onder druk.", ["Hoekstra"], ["leidinggevende"]),
    ],
    "pl": [
        ("Pan Wiśniewski krzyczy na mnie przy wszystkich.", ["Wiśniewski"], ["Pan"]),
        ("Pani Zielińska mnie ignoruje.", ["Zielińska"], ["Pani"]),
        ("Mój szef Grzybowski zmienia mi grafik.", ["Grzybowski"], ["szef"]),
        ("Moja kierowniczka Szymańska mnie poniża.", ["Szymańska"], ["kierowniczka"]),
    ],
    "it": [
        ("Il Sig. Esposito mi urla contro.", ["Esposito"], ["Sig."]),
        ("La Sig.ra Colombo non mi saluta più.", ["Colombo"], []),
        ("Il mio capo Brambilla mi cambia i turni.", ["Brambilla"], ["capo"]),
        ("La mia responsabile Castellani mi umilia.", ["Castellani"], ["responsabile"]),
    ],
    "pt": [
        ("O Sr. Gonçalves grita comigo.", ["Gonçalves"], ["Sr."]),
        ("A Sra. Carvalho não me deixa falar.", ["Carvalho"], ["Sra."]),
        ("O meu chefe Magalhães muda-me os turnos.", ["Magalhães"], ["chefe"]),
        ("A minha chefe Figueiredo ignora as minhas mensagens.", ["Figueiredo"], ["chefe"]),
    ],
}


def main() -> None:
    rng = random.Random(11)
    rows = []
    for lang in PII_SENTENCES:
        rows += [_pii_report(rng, lang) for _ in range(30 if lang == "en" else 25)]
        rows += [_clean_report(rng, lang) for _ in range(16 if lang == "en" else 13)]
    for lang, cases in TITLE_AND_CUE_CASES.items():
        rows += [{"language": lang, "text": t, "pii": p, "keep": k} for t, p, k in cases]
    with OUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(
        f"{OUT}: {sum(bool(r['pii']) for r in rows)} with PII, "
        f"{sum(not r['pii'] for r in rows)} without"
    )


if __name__ == "__main__":
    main()
