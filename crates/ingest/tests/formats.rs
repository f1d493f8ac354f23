//! Each accepted format, with bodies modelled on what the cameras really send.

mod common;

use anpr_domain::{BoundingBox, PlateFormat};
use anpr_ingest::{
    detect_format, parse_reads, parse_reads_as, ImageFormat, IngestLimits, InputFormat,
};
use common::{b64, jpeg, now, png};

fn parse(body: &str) -> Vec<anpr_ingest::IncomingRead> {
    parse_reads(body.as_bytes(), now(), &IngestLimits::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn own_single_read_with_everything() {
    let body = format!(
        r#"{{
            "plate": "abc-123",
            "captured_at": "2024-05-01T23:59:30+12:00",
            "confidence": 0.93,
            "external_id": "cam7-000123",
            "plate_box": {{"x": 410, "y": 300, "width": 120, "height": 40}},
            "vehicle": {{"make": "Toyota", "colour": "white"}},
            "overview_image": "{}",
            "plate_image": "data:image/png;base64,{}"
        }}"#,
        b64(&jpeg(64, 48)),
        b64(&png(30, 10))
    );
    let (format, reads) = parse_reads_as(body.as_bytes(), now(), &IngestLimits::default()).unwrap();
    assert_eq!(format, InputFormat::Read);
    let [r] = reads.as_slice() else {
        panic!("{reads:?}")
    };
    assert_eq!(r.plate.as_str(), "ABC123");
    assert_eq!(r.plate.format(), PlateFormat::NzStandard);
    assert_eq!(r.plate_raw, "abc-123");
    assert_eq!(r.captured_at.to_rfc3339(), "2024-05-01T11:59:30+00:00");
    assert_eq!(r.confidence, 0.93);
    assert_eq!(r.external_id.as_deref(), Some("cam7-000123"));
    assert_eq!(
        r.plate_box,
        Some(BoundingBox {
            x: 410,
            y: 300,
            width: 120,
            height: 40
        })
    );
    assert_eq!(r.vehicle_make.as_deref(), Some("Toyota"));
    assert_eq!(r.vehicle_colour.as_deref(), Some("white"));
    let overview = r.overview_image.as_ref().unwrap();
    assert_eq!(
        (overview.format(), overview.width(), overview.height()),
        (ImageFormat::Jpeg, 64, 48)
    );
    let plate = r.plate_image.as_ref().unwrap();
    assert_eq!(
        (plate.format(), plate.width(), plate.height()),
        (ImageFormat::Png, 30, 10)
    );

    let (new_read, images) = r.clone().into_new_read(42);
    assert_eq!(new_read.camera_id, 42);
    assert_eq!(
        new_read.plate_image.as_ref(),
        Some(&images.plate.as_ref().unwrap().0)
    );
    assert_eq!(new_read.overview_image.as_ref().unwrap().as_str().len(), 64);
    assert_eq!(images.iter().count(), 2);
}

#[test]
fn own_minimal_read_and_colour_spelling() {
    let reads = parse(
        r#"{"plate":"KIWI1","captured_at":"2024-05-01T11:00:00Z","confidence":1,
            "vehicle":{"color":"red"},"unknown_field":[1,2,3]}"#,
    );
    assert_eq!(reads[0].plate.format(), PlateFormat::NzPersonalised);
    assert_eq!(reads[0].vehicle_colour.as_deref(), Some("red"));
    assert_eq!(reads[0].external_id, None);
    assert_eq!(reads[0].overview_image, None);
}

#[test]
fn own_batch() {
    let body = r#"{"reads":[
        {"plate":"ABC123","captured_at":"2024-05-01T10:00:00Z","confidence":0.91},
        {"plate":"XY4567","captured_at":"2024-05-01T10:00:01.250Z","confidence":0.8,"external_id":"b"},
        {"plate":"HELLO","captured_at":"2024-05-01T10:00:02Z","confidence":0.5,"plate_image":null}
    ]}"#;
    assert_eq!(detect_format(body.as_bytes()).unwrap(), InputFormat::Batch);
    let reads = parse(body);
    let plates: Vec<_> = reads.iter().map(|r| r.plate.as_str()).collect();
    assert_eq!(plates, ["ABC123", "XY4567", "HELLO"]);
    assert_eq!(reads[1].plate.format(), PlateFormat::NzOld);
    assert!(parse(r#"{"reads":[]}"#).is_empty());
}

#[test]
fn own_json_with_escaped_slashes_in_base64() {
    // PHP and some Java encoders escape "/" as "\/"; the base64 must survive it.
    let image = b64(&jpeg(16, 16)).replace('/', "\\/");
    let body = format!(
        r#"{{"plate":"ABC123","captured_at":"2024-05-01T10:00:00Z","confidence":0.9,"plate_image":"{image}"}}"#
    );
    assert!(parse(&body)[0].plate_image.is_some());
}

/// The group message of the OpenALPR agent documentation, with vehicle attributes and crops
/// as newer agents send them.
fn alpr_group(plate_crop: &str, vehicle_crop: &str) -> String {
    format!(
        r#"{{
      "version": 2,
      "data_type": "alpr_group",
      "epoch_start": 1714557600000,
      "epoch_end": 1714557601257,
      "frame_start": 1042, "frame_end": 1061,
      "company_id": "44c9274f-8d57-432a-8cd7-8c991f22ead3",
      "agent_uid": "Vf9mhNVEPNq0fxDPpuw7",
      "agent_version": "2.8.101",
      "agent_type": "alprd",
      "camera_id": 1414799424,
      "gps_latitude": -37.7870, "gps_longitude": 175.2793,
      "country": "nz",
      "uuids": ["site-cam1414799424-1714557600000", "site-cam1414799424-1714557600633"],
      "plate_indexes": [0, 0],
      "candidates": [{{"plate": "FJM493", "confidence": 92.07, "matches_template": 1}},
                     {{"plate": "FJM49B", "confidence": 83.3, "matches_template": 0}}],
      "vehicle_crop_jpeg": "{vehicle_crop}",
      "best_plate": {{
        "plate": "FJM493",
        "confidence": 92.075203,
        "matches_template": 1,
        "plate_index": 0,
        "region": "nz",
        "region_confidence": 0,
        "processing_time_ms": 96.942459,
        "requested_topn": 10,
        "coordinates": [{{"x": 204, "y": 134}}, {{"x": 309, "y": 138}}, {{"x": 308, "y": 170}}, {{"x": 203, "y": 166}}],
        "plate_crop_jpeg": "{plate_crop}",
        "vehicle_region": {{"x": 120, "y": 20, "width": 288, "height": 288}},
        "vehicle_detected": true,
        "candidates": [{{"plate": "FJM493", "confidence": 92.075203, "matches_template": 1}}]
      }},
      "best_confidence": 92.075203,
      "best_plate_number": "FJM493",
      "best_region": "nz",
      "best_region_confidence": 0,
      "matches_template": true,
      "best_image_width": 1280,
      "best_image_height": 720,
      "best_uuid": "site-cam1414799424-1714557600633",
      "best_uuid_epoch_ms": 1714557600633,
      "travel_direction": 182.5,
      "is_parked": false,
      "is_preview": false,
      "vehicle_path": [{{"x": 120, "y": 20, "w": 288, "h": 288, "f": 1042}}],
      "vehicle": {{
        "color": [{{"name": "silver-gray", "confidence": 71.2}}, {{"name": "white", "confidence": 20.1}}],
        "make": [{{"name": "mazda", "confidence": 40.0}}, {{"name": "toyota", "confidence": 55.3}}],
        "make_model": [{{"name": "toyota_corolla", "confidence": 30.0}}],
        "body_type": [{{"name": "sedan-standard", "confidence": 88.0}}],
        "year": [{{"name": "2010-2014", "confidence": 41.0}}],
        "orientation": [{{"name": "180", "confidence": 95.0}}]
      }},
      "web_server_config": {{"camera_label": "Te Rapa forecourt", "agent_label": "site"}},
      "direction_of_travel_id": 0
    }}"#
    )
}

#[test]
fn openalpr_group() {
    let body = alpr_group(&b64(&jpeg(120, 40)), &b64(&jpeg(288, 288)));
    assert_eq!(
        detect_format(body.as_bytes()).unwrap(),
        InputFormat::OpenAlprGroup
    );
    let reads = parse(&body);
    let [r] = reads.as_slice() else { panic!() };
    assert_eq!(r.plate.as_str(), "FJM493");
    assert!((r.confidence - 0.92075).abs() < 1e-4);
    assert_eq!(r.captured_at.timestamp_millis(), 1_714_557_600_000);
    assert_eq!(
        r.external_id.as_deref(),
        Some("site-cam1414799424-1714557600633")
    );
    assert_eq!(
        r.plate_box,
        Some(BoundingBox {
            x: 203,
            y: 134,
            width: 106,
            height: 36
        })
    );
    assert_eq!(
        r.vehicle_make.as_deref(),
        Some("toyota"),
        "the most confident make"
    );
    assert_eq!(r.vehicle_colour.as_deref(), Some("silver-gray"));
    assert_eq!(r.plate_image.as_ref().unwrap().width(), 120);
    assert_eq!(r.overview_image.as_ref().unwrap().width(), 288);
}

#[test]
fn openalpr_group_minimal_as_documented() {
    // The oldest documented group: no vehicle, no crops.
    let body = r#"{
      "version": 1, "data_type": "alpr_group",
      "epoch_start": 1714557600000, "epoch_end": 1714557601000,
      "company_id": "x", "site_id": "dimitar-video", "camera_id": 1414799424,
      "uuids": ["a"],
      "best_plate": {"plate": "A13709", "confidence": 92.075203, "matches_template": 0,
                     "plate_index": 0, "region": "mo", "region_confidence": 0,
                     "processing_time_ms": 96.9, "requested_topn": 10,
                     "coordinates": [{"x": 204, "y": 134}, {"x": 709, "y": 222}, {"x": 658, "y": 500}, {"x": 167, "y": 383}],
                     "candidates": []},
      "best_confidence": 92.075203,
      "best_uuid": "dimitar-video-cam1414799424-1448326208789",
      "best_plate_number": "A13709"
    }"#;
    let r = &parse(body)[0];
    assert_eq!(r.plate.as_str(), "A13709");
    assert_eq!(r.vehicle_make, None);
    assert_eq!(r.plate_image, None);
    assert_eq!(r.plate_box.unwrap().width, 542);
}

#[test]
fn openalpr_results_current_agent() {
    let body = r#"{"uuid": "a6c1-1714557600198", "data_type": "alpr_results", "epoch_time": 1714557600198,
      "processing_time": {"total": 433.9, "plates": 61.5, "vehicles": 53.3},
      "img_height": 360, "img_width": 640,
      "results": [
        {"plate": "HGT552", "confidence": 93.52, "region_confidence": 52,
         "vehicle_region": {"y": 0, "x": 189, "height": 267, "width": 267},
         "region": "nz", "plate_index": 0, "processing_time_ms": 19.6,
         "candidates": [{"matches_template": 1, "plate": "HGT552", "confidence": 93.52}],
         "coordinates": [{"y": 137, "x": 265}, {"y": 135, "x": 379}, {"y": 160, "x": 380}, {"y": 162, "x": 266}],
         "vehicle": {"orientation": [{"confidence": 99.9, "name": "180"}],
                     "color": [{"confidence": 98.8, "name": "black"}, {"confidence": 0.5, "name": "blue"}],
                     "make": [{"confidence": 60.1, "name": "ford"}],
                     "body_type": [{"confidence": 90.0, "name": "suv-standard"}]},
         "matches_template": 1, "requested_topn": 10},
        {"plate": "ZX9041", "confidence": 71.0, "coordinates": [{"x": 10, "y": 10}, {"x": 60, "y": 10}, {"x": 60, "y": 30}, {"x": 10, "y": 30}],
         "candidates": []}
      ]}"#;
    assert_eq!(
        detect_format(body.as_bytes()).unwrap(),
        InputFormat::OpenAlprResults
    );
    let reads = parse(body);
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[0].plate.as_str(), "HGT552");
    assert_eq!(
        reads[0].external_id.as_deref(),
        Some("a6c1-1714557600198#0")
    );
    assert_eq!(
        reads[1].external_id.as_deref(),
        Some("a6c1-1714557600198#1")
    );
    assert_eq!(reads[0].captured_at.timestamp_millis(), 1_714_557_600_198);
    assert_eq!(reads[0].vehicle_make.as_deref(), Some("ford"));
    assert_eq!(reads[0].vehicle_colour.as_deref(), Some("black"));
    assert_eq!(
        reads[0].plate_box,
        Some(BoundingBox {
            x: 265,
            y: 135,
            width: 115,
            height: 27
        })
    );
    assert!((reads[1].confidence - 0.71).abs() < 1e-6);
}

#[test]
fn openalpr_results_old_agent_in_seconds_without_data_type() {
    let body = r#"{"uuid": "f11e0acc-6aaf-4817-9299-9e6773043b8e", "camera_id": 1, "site_id": "headquarters",
      "img_width": 640, "img_height": 480, "epoch_time": 1714557600, "processing_time_ms": 138.6,
      "results": [{"plate": "S11FRE", "confidence": 77.130661, "matches_template": 0, "region": "",
                   "region_confidence": 0,
                   "coordinates": [{"x": 218, "y": 342}, {"x": 407, "y": 325}, {"x": 407, "y": 413}, {"x": 218, "y": 431}],
                   "candidates": [{"plate": "S11FRE", "confidence": 77.13, "matches_template": 0}]}]}"#;
    assert_eq!(
        detect_format(body.as_bytes()).unwrap(),
        InputFormat::OpenAlprResults
    );
    let r = &parse(body)[0];
    assert_eq!(r.captured_at.timestamp(), 1_714_557_600);
    assert_eq!(
        r.external_id.as_deref(),
        Some("f11e0acc-6aaf-4817-9299-9e6773043b8e")
    );
    assert_eq!(r.plate.format(), PlateFormat::NzPersonalised);
}

#[test]
fn openalpr_heartbeat_has_no_reads() {
    let body = r#"{"version": 1, "data_type": "heartbeat", "company_id": "x", "site_id": "s",
                   "timestamp": 1714557600000, "system_uptime_seconds": 2595123}"#;
    assert_eq!(
        detect_format(body.as_bytes()).unwrap(),
        InputFormat::OpenAlprHeartbeat
    );
    assert!(parse(body).is_empty());
}

#[test]
fn platerecognizer_stream_webhook() {
    let body = r#"{
      "hook": {"target": "http://anpr.example/api/v1/reads", "id": "camera-1", "event": "recognition",
               "filename": "camera-1_screenshots/24-05-01/10-00-13.606935.jpg"},
      "data": {
        "camera_id": "camera-1",
        "filename": "camera-1_screenshots/24-05-01/10-00-13.606935.jpg",
        "timestamp": "2024-05-01T10:00:13.606935Z",
        "timestamp_local": "2024-05-01 22:00:13.606935+12:00",
        "results": [{
          "box": {"xmin": 460, "ymin": 57, "xmax": 557, "ymax": 82},
          "plate": "lkq913",
          "region": {"code": "nz", "score": 0.913},
          "score": 0.839,
          "candidates": [{"plate": "lkq913"}, {"plate": "lkq9l3"}],
          "dscore": 0.441,
          "vehicle": {"score": 0.267, "type": "Sedan", "box": {"xmin": 387, "ymin": 23, "xmax": 1493, "ymax": 577}},
          "model_make": [{"make": "Honda", "model": "Civic", "score": 0.109}, {"make": "Toyota", "model": "Corolla", "score": 0.05}],
          "color": [{"color": "blue", "score": 0.672}, {"color": "silver", "score": 0.201}],
          "orientation": [{"orientation": "Front", "score": 0.623}],
          "direction": 225,
          "source_url": "rtsp://10.0.0.5/stream1",
          "position_sec": 4
        }]
      }
    }"#;
    assert_eq!(
        detect_format(body.as_bytes()).unwrap(),
        InputFormat::PlateRecognizerWebhook
    );
    let r = &parse(body)[0];
    assert_eq!(r.plate.as_str(), "LKQ913");
    assert_eq!(r.plate_raw, "lkq913");
    assert!((r.confidence - 0.839).abs() < 1e-6);
    assert_eq!(r.captured_at.timestamp_micros(), 1_714_557_613_606_935);
    assert_eq!(
        r.plate_box,
        Some(BoundingBox {
            x: 460,
            y: 57,
            width: 97,
            height: 25
        })
    );
    assert_eq!(r.vehicle_make.as_deref(), Some("Honda"));
    assert_eq!(r.vehicle_colour.as_deref(), Some("blue"));
}

#[test]
fn platerecognizer_snapshot_response_and_props() {
    // The recognition response as forwarded by integrations: zone-less UTC timestamp, and
    // the newer vehicle.props layout for make and colour.
    let body = r#"{
      "processing_time": 102.895,
      "results": [
        {"box": {"xmin": 146, "ymin": 481, "xmax": 276, "ymax": 576}, "plate": "nhk552",
         "region": {"code": "nz", "score": 0.986}, "score": 0.898,
         "candidates": [{"score": 0.898, "plate": "nhk552"}], "dscore": 0.9252,
         "vehicle": {"score": 0.834, "type": "Sedan", "box": {"xmin": 68, "ymin": 103, "xmax": 914, "ymax": 643},
                     "props": {"make_model": [{"make": "Mazda", "model": "3", "score": 0.6}],
                               "orientation": [{"value": "Rear", "score": 0.9}],
                               "color": [{"value": "red", "score": 0.8}]}}},
        {"box": {"xmin": 10, "ymin": 10, "xmax": 90, "ymax": 40}, "plate": "ab1234", "score": 0.7}
      ],
      "filename": "1547_car.jpg",
      "version": 1,
      "camera_id": null,
      "timestamp": "2024-05-01 09:43:58.514896",
      "usage": {"calls": 19, "max_calls": 100000}
    }"#;
    assert_eq!(
        detect_format(body.as_bytes()).unwrap(),
        InputFormat::PlateRecognizerResponse
    );
    let reads = parse(body);
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[0].vehicle_make.as_deref(), Some("Mazda"));
    assert_eq!(reads[0].vehicle_colour.as_deref(), Some("red"));
    assert_eq!(
        reads[0].captured_at.to_rfc3339(),
        "2024-05-01T09:43:58.514896+00:00"
    );
    assert_eq!(reads[1].plate.format(), PlateFormat::NzOld);
    assert_eq!(reads[1].vehicle_make, None);
}

#[test]
fn byte_order_mark_and_whitespace_are_tolerated() {
    let body = "\u{feff}\n  {\"plate\":\"ABC123\",\"captured_at\":\"2024-05-01T10:00:00Z\",\"confidence\":0.9}\n";
    assert_eq!(parse(body).len(), 1);
}
