//! Real New Zealand towns and cities at their true coordinates, with the NZ Police district
//! each lies in, so that demo searches by area and district return what a New Zealander
//! would expect.

/// The twelve NZ Police districts: the access policy's default list, so that every synthetic
/// place lies in a district the policy accepts.
pub const DISTRICTS: [&str; 12] = anpr_policy::config::NZ_POLICE_DISTRICTS;

/// A town or city (or a large part of Auckland, which spans three police districts).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub name: &'static str,
    /// The town centre, in degrees (WGS 84).
    pub lat: f64,
    pub lon: f64,
    /// NZ Police district, one of [`DISTRICTS`].
    pub district: &'static str,
    /// Approximate urban population; weights how many sites a town gets.
    pub population: u32,
    /// Suburbs, used to name and address sites.
    pub suburbs: &'static [&'static str],
    /// Compass bearing from the centre towards land, for towns on a harbour or the coast:
    /// sites are placed on that side so they do not end up in the sea.
    pub land_bearing_deg: Option<u16>,
    /// How far from the centre sites are spread, in kilometres.
    pub spread_km: f64,
}

// A table row reads best as a call with positional arguments.
#[allow(clippy::too_many_arguments)]
const fn place(
    name: &'static str,
    lat: f64,
    lon: f64,
    district: &'static str,
    population: u32,
    suburbs: &'static [&'static str],
    land_bearing_deg: Option<u16>,
    spread_km: f64,
) -> Place {
    Place {
        name,
        lat,
        lon,
        district,
        population,
        suburbs,
        land_bearing_deg,
        spread_km,
    }
}

/// Every place the demo uses, north to south-ish.
#[rustfmt::skip]
pub const PLACES: &[Place] = &[
    place("Whangārei", -35.7251, 174.3237, "Northland", 55_000, &["Kensington", "Tikipunga", "Regent", "Onerahi", "Morningside"], Some(320), 3.0),
    place("North Shore", -36.7880, 174.7720, "Waitematā", 250_000, &["Takapuna", "Albany", "Glenfield", "Browns Bay", "Milford", "Northcote"], Some(270), 3.0),
    place("Henderson", -36.8790, 174.6310, "Waitematā", 150_000, &["Henderson", "Te Atatū", "Massey", "Glen Eden", "Westgate"], None, 3.0),
    place("Auckland", -36.8485, 174.7633, "Auckland City", 500_000, &["Newmarket", "Ponsonby", "Mount Eden", "Parnell", "Onehunga", "Mount Albert", "Ellerslie", "Epsom"], Some(180), 4.0),
    place("Manukau", -36.9930, 174.8800, "Counties Manukau", 400_000, &["Manukau", "Ōtara", "Papatoetoe", "Manurewa", "Botany", "Flat Bush"], None, 4.0),
    place("Papakura", -37.0650, 174.9440, "Counties Manukau", 60_000, &["Papakura", "Takanini", "Drury"], Some(90), 2.0),
    place("Hamilton", -37.7870, 175.2793, "Waikato", 185_000, &["Te Rapa", "Frankton", "Hillcrest", "Chartwell", "Rototuna", "Dinsdale", "Hamilton East"], None, 4.0),
    place("Tauranga", -37.6878, 176.1651, "Bay of Plenty", 158_000, &["Greerton", "Bethlehem", "Gate Pā", "Brookfield", "Tauranga South"], Some(200), 4.0),
    place("Rotorua", -38.1368, 176.2497, "Bay of Plenty", 60_000, &["Fenton Park", "Glenholme", "Western Heights", "Fordlands"], Some(180), 3.0),
    place("Whakatāne", -37.9530, 176.9910, "Bay of Plenty", 20_000, &["Coastlands", "Allandale", "Trident"], Some(180), 2.0),
    place("Taupō", -38.6857, 176.0702, "Bay of Plenty", 27_000, &["Nukuhau", "Hilltop", "Richmond Heights"], Some(45), 2.0),
    place("Gisborne", -38.6623, 178.0176, "Eastern", 38_000, &["Kaiti", "Elgin", "Mangapapa"], Some(0), 2.5),
    place("Napier", -39.4928, 176.9120, "Eastern", 66_000, &["Taradale", "Marewa", "Onekawa", "Greenmeadows"], Some(220), 3.0),
    place("Hastings", -39.6390, 176.8400, "Eastern", 50_000, &["Flaxmere", "Mahora", "Parkvale", "Akina"], None, 3.0),
    place("New Plymouth", -39.0556, 174.0752, "Central", 60_000, &["Fitzroy", "Westown", "Merrilands", "Vogeltown"], Some(180), 3.0),
    place("Whanganui", -39.9301, 175.0479, "Central", 42_000, &["Gonville", "Aramoho", "Springvale", "St Johns Hill"], None, 3.0),
    place("Palmerston North", -40.3523, 175.6082, "Central", 82_000, &["Hokowhitu", "Terrace End", "Highbury", "Kelvin Grove", "Awapuni"], None, 3.0),
    place("Masterton", -40.9510, 175.6570, "Wellington", 23_000, &["Lansdowne", "Solway", "Kuripuni"], None, 2.0),
    place("Porirua", -41.1340, 174.8410, "Wellington", 60_000, &["Porirua", "Titahi Bay", "Whitby", "Cannons Creek"], Some(110), 2.0),
    place("Lower Hutt", -41.2092, 174.9080, "Wellington", 112_000, &["Petone", "Naenae", "Hutt Central", "Waterloo", "Taitā"], Some(0), 3.0),
    place("Wellington", -41.2865, 174.7762, "Wellington", 215_000, &["Te Aro", "Thorndon", "Kilbirnie", "Johnsonville", "Newtown", "Karori"], Some(240), 2.5),
    place("Nelson", -41.2706, 173.2840, "Tasman", 55_000, &["Stoke", "Tāhunanui", "Atawhai", "Nelson South"], Some(150), 2.5),
    place("Blenheim", -41.5140, 173.9600, "Tasman", 30_000, &["Springlands", "Witherlea", "Mayfield", "Redwoodtown"], None, 2.5),
    place("Greymouth", -42.4500, 171.2100, "Tasman", 8_000, &["Cobden", "Blaketown", "Karoro"], Some(90), 1.5),
    place("Christchurch", -43.5321, 172.6362, "Canterbury", 390_000, &["Riccarton", "Papanui", "Hornby", "Sydenham", "Linwood", "Shirley", "Addington", "Belfast"], None, 5.0),
    place("Ashburton", -43.9030, 171.7480, "Canterbury", 21_000, &["Allenton", "Tinwald", "Netherby"], None, 2.0),
    place("Timaru", -44.3970, 171.2550, "Canterbury", 30_000, &["Highfield", "Gleniti", "Waimataitai", "Marchwiel"], Some(270), 2.5),
    place("Oamaru", -45.0970, 170.9700, "Southern", 14_000, &["South Hill", "Weston", "Holmes Hill"], Some(270), 2.0),
    place("Dunedin", -45.8788, 170.5028, "Southern", 130_000, &["Mornington", "South Dunedin", "North East Valley", "Green Island", "Caversham", "Roslyn"], Some(240), 3.0),
    place("Queenstown", -45.0312, 168.6626, "Southern", 30_000, &["Frankton", "Fernhill", "Arthurs Point"], Some(30), 2.0),
    place("Invercargill", -46.4132, 168.3538, "Southern", 51_000, &["Waikiwi", "Glengarry", "Windsor", "Appleby", "Georgetown"], Some(20), 3.0),
];

/// The place called `name` (exact, with macrons).
pub fn by_name(name: &str) -> Option<&'static Place> {
    PLACES.iter().find(|p| p.name == name)
}

/// A box around mainland New Zealand (Stewart Island included, the Chathams not).
pub const NZ_BOUNDS: (f64, f64, f64, f64) = (-47.5, 166.0, -34.0, 179.0);

/// Whether a point lies in [`NZ_BOUNDS`].
pub fn in_new_zealand(lat: f64, lon: f64) -> bool {
    let (min_lat, min_lon, max_lat, max_lon) = NZ_BOUNDS;
    (min_lat..=max_lat).contains(&lat) && (min_lon..=max_lon).contains(&lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_in_new_zealand_and_in_a_district() {
        assert!(PLACES.len() >= 16);
        for p in PLACES {
            assert!(in_new_zealand(p.lat, p.lon), "{}", p.name);
            assert!(
                DISTRICTS.contains(&p.district),
                "{}: {}",
                p.name,
                p.district
            );
            assert!(!p.suburbs.is_empty() && p.spread_km > 0.0, "{}", p.name);
        }
        for d in DISTRICTS {
            assert!(PLACES.iter().any(|p| p.district == d), "no place in {d}");
        }
    }

    #[test]
    fn the_issue_towns_are_there() {
        for name in [
            "Auckland",
            "Hamilton",
            "Tauranga",
            "Wellington",
            "Christchurch",
            "Dunedin",
            "Whangārei",
            "Rotorua",
            "Napier",
            "Palmerston North",
            "Nelson",
            "New Plymouth",
            "Invercargill",
            "Queenstown",
            "Gisborne",
            "Whanganui",
            "Timaru",
        ] {
            assert!(by_name(name).is_some(), "{name}");
        }
        let akl = by_name("Auckland").unwrap();
        assert!((akl.lat + 36.85).abs() < 0.01 && (akl.lon - 174.76).abs() < 0.01);
        assert_eq!(by_name("Christchurch").unwrap().district, "Canterbury");
        assert_eq!(by_name("Queenstown").unwrap().district, "Southern");
    }
}
